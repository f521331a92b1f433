import { assertBoolean, assertKnownKeys, assertRail } from '../internal/validateOptions.js';
import type { OutputRail } from '../core/types.js';

/**
 * Defines an output rail from a name and a check function, validating both.
 *
 * The check receives the window text and a {@link RailContext}, and answers `true` (allowed), `false` (blocked)
 * or a {@link RailDecision} with a reason, either directly (the rail then stays synchronous and marble-testable),
 * as a Promise, or as an Observable whose first value counts.
 *
 * ## Example
 * ```ts
 * import { defineRail } from 'rxguardrails';
 *
 * const noShouting = defineRail('no shouting', (text) =>
 *   /[A-Z]{12,}/.test(text) ? { allowed: false, reason: 'too many capitals' } : true,
 * );
 * const moderated = defineRail('moderation', async (text, { signal }) => {
 *   const response = await fetch('https://moderation.example/check', { method: 'POST', body: text, signal });
 *   return (await response.json()) as { allowed: boolean };
 * });
 * ```
 *
 * @param name Non-empty; reported in verdicts and in NeMo's `Blocked by <name> rails.` payload.
 * @param check The check; see {@link OutputRail.check}.
 * @throws InvalidOptionError when the name is empty or the check is not a function.
 */
export function defineRail(name: string, check: OutputRail['check']): OutputRail;
/** Validates an existing rail object and returns a frozen copy. */
export function defineRail(rail: OutputRail): OutputRail;
export function defineRail(nameOrRail: string | OutputRail, check?: OutputRail['check']): OutputRail {
  if (typeof nameOrRail === 'object' && nameOrRail !== null) assertKnownKeys('defineRail', nameOrRail, ['name', 'check', 'rewrites']);
  const rail: unknown = typeof nameOrRail === 'string' || check !== undefined ? { name: nameOrRail, check } : nameOrRail;
  assertRail('defineRail', rail, 'the rail');
  if (rail.rewrites === undefined) return Object.freeze({ name: rail.name, check: rail.check });
  assertBoolean('defineRail', 'rewrites', rail.rewrites);
  return Object.freeze({ name: rail.name, check: rail.check, rewrites: rail.rewrites });
}

/** Internal: a custom rail given by flow name (a rail or a bare check), as a rail of that name. */
export function railNamed(name: string, rail: OutputRail | OutputRail['check']): OutputRail {
  return typeof rail === 'function' ? defineRail(name, rail) : defineRail({ name: rail.name, check: rail.check, ...(rail.rewrites === undefined ? {} : { rewrites: rail.rewrites }) });
}
