// Internal: an environment variable where there is one (Node, Deno, Bun), without naming Node's `process`: the core
// bundles for browsers, where there is none.

/** The variable's value, or undefined where it is unset or there is no environment. */
export function environmentVariable(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
}
