// The core and test-kit entries bundle for browsers: what they reach, directly or not, is read off the import graph
// by dependency-cruiser (the same tool and config as `npm run lint:deps`, whose browser-entry rules forbid Node
// built-ins; this spec pins the whole list of outside modules each entry may pull into a bundle).
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const depcruise = resolve(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Cruise {
  readonly modules: readonly { readonly dependencies: readonly { readonly module: string; readonly resolved: string; readonly dependencyTypes: readonly string[] }[] }[];
}

/** Every import of a module outside lib/ reachable from `entry`: its specifier and whether it is a Node built-in. */
function outsideImports(entry: string): { specifier: string; builtin: boolean }[] {
  const output = execFileSync(process.execPath, [depcruise, entry, '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], { cwd: root, encoding: 'utf8' });
  const found = new Map<string, boolean>();
  for (const module of (JSON.parse(output) as Cruise).modules) {
    for (const dependency of module.dependencies) {
      if (!dependency.resolved.startsWith('lib/')) found.set(dependency.module, dependency.dependencyTypes.includes('core'));
    }
  }
  return [...found].map(([specifier, builtin]) => ({ specifier, builtin })).sort((a, b) => a.specifier.localeCompare(b.specifier));
}

describe.each([
  // eventsource-parser: the guardrails server's client and the engines' Chat Completions without the SDK, each in a
  // chunk imported on first use.
  ['lib/index.ts', ['@huggingface/jinja', 'eventsource-parser', 're2js', 'rxjs', 'yaml', 'zod/mini']],
  ['lib/testing/index.ts', ['rxjs', 'rxjs/testing']],
  ['lib/regex/index.ts', ['re2js', 'rxjs']],
  ['lib/judges/index.ts', ['@huggingface/jinja', 'rxjs']],
  ['lib/detectors/index.ts', ['re2js', 'rxjs']],
  // Types only (the lint:deps rule ai-sdk-types-only): nothing of the AI SDK is in a bundle of this entry.
  ['lib/ai-sdk/index.ts', ['@ai-sdk/provider', 'ai', 'rxjs']],
  // The LangChain bridge types LangChain structurally: @langchain/core is the app's, never imported here.
  ['lib/langchain/index.ts', ['rxjs']],
  // OpenTelemetry's API is browser-safe; rxjs only through the core types' type import of Observable.
  ['lib/otel/index.ts', ['@opentelemetry/api', 'rxjs']],
])('the %s entry', (entry, allowed) => {
  const imports = outsideImports(entry);

  it('should import no Node built-in, directly or not, so it bundles for the browser', () => {
    expect(imports.filter(({ builtin }) => builtin)).toEqual([]);
  });

  it(`should depend on nothing but ${allowed.join(' and ')}`, () => {
    expect(imports.map(({ specifier }) => specifier)).toEqual(allowed);
  });
});
