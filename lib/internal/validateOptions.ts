// Option checks shared by the operator and rail factories. They throw InvalidOptionError at the call site, so a
// misconfigured pipeline fails where it is built, not when the first token arrives.
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import type { ChatMessage, Demand, OutputRail, Telemetry, UsageSink } from '../core/types.js';

export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  return String(value);
}

export function assertOptionsObject(owner: string, options: unknown): void {
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw new InvalidOptionError('options', options, `${owner}: options must be an object, got ${describeValue(options)}`);
  }
}

export function assertInteger(owner: string, option: string, value: unknown, minimum: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum) {
    throw new InvalidOptionError(
      option,
      value,
      `${owner}: ${option} must be an integer of at least ${minimum}, got ${describeValue(value)}`,
    );
  }
}

export function assertOneOf<T extends string>(
  owner: string,
  option: string,
  value: unknown,
  allowed: readonly T[],
): asserts value is T {
  if (!allowed.includes(value as T)) {
    const list = allowed.map((entry) => `'${entry}'`).join(', ');
    throw new InvalidOptionError(option, value, `${owner}: ${option} must be one of ${list}, got ${describeValue(value)}`);
  }
}

export function assertBoolean(owner: string, option: string, value: unknown): asserts value is boolean {
  if (typeof value !== 'boolean') {
    throw new InvalidOptionError(option, value, `${owner}: ${option} must be true or false, got ${describeValue(value)}`);
  }
}

export function assertString(owner: string, option: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') {
    throw new InvalidOptionError(option, value, `${owner}: ${option} must be a string, got ${describeValue(value)}`);
  }
}

/** A duration in milliseconds: positive and finite (Infinity is written as "no option"). */
export function assertDuration(owner: string, option: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new InvalidOptionError(
      option,
      value,
      `${owner}: ${option} must be a positive, finite number of milliseconds, got ${describeValue(value)}`,
    );
  }
}

/** An http(s) URL, as the URL parser reads it (a service a rail calls: a classifier, an analyzer). */
export function assertHttpUrl(owner: string, option: string, value: unknown): asserts value is string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
    throw new InvalidOptionError(option, value, `${owner}: ${option} must be an http(s) URL, got ${describeValue(value)}`);
  }
}

/** A timeout in ms that may be Infinity (wait for ever): the rails' `timeoutMs`. */
export function assertTimeoutMs(owner: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw new InvalidOptionError('timeoutMs', value, `${owner}: timeoutMs must be a positive number of milliseconds (or Infinity), got ${describeValue(value)}`);
  }
}

/** Whether a value is a thenable (what a rail's check may answer besides a value or an Observable). */
export function isPromiseLike<T = unknown>(value: unknown): value is PromiseLike<T> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<T>).then === 'function';
}

export function assertRailName(owner: string, option: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidOptionError(option, value, `${owner}: ${option} must be a non-empty string, got ${describeValue(value)}`);
  }
}

/** Every entry is a rail (a non-empty `name` and a `check` function) and no two share a name. */
export function assertRails(owner: string, rails: unknown): asserts rails is readonly OutputRail[] {
  if (!Array.isArray(rails)) {
    throw new InvalidOptionError('rails', rails, `${owner}: rails must be an array of rails, got ${describeValue(rails)}`);
  }
  const seen = new Set<string>();
  rails.forEach((rail: unknown, position) => {
    assertRail(owner, rail, `rails[${position}]`);
    if (seen.has(rail.name)) {
      throw new InvalidOptionError(
        `rails[${position}].name`,
        rail.name,
        `${owner}: two rails are named '${rail.name}'; give each rail its own name (e.g. keywordRail(words, { name: '...' }))`,
      );
    }
    seen.add(rail.name);
  });
}

/** A non-empty `name` and a `check` function; `label` says where the rail was given (`rails[2]`, `the rail`). */
export function assertRail(owner: string, rail: unknown, label: string): asserts rail is OutputRail {
  if (rail === null || typeof rail !== 'object') {
    throw new InvalidOptionError(label, rail, `${owner}: ${label} must be a rail, got ${describeValue(rail)}`);
  }
  const { name, check } = rail as Partial<OutputRail>;
  if (typeof name !== 'string' || name.trim() === '') {
    throw new InvalidOptionError(
      `${label}.name`,
      name,
      `${owner}: ${label} has no name (got ${describeValue(name)}); every rail needs a non-empty name, ` +
        'which verdicts and error payloads report',
    );
  }
  if (typeof check !== 'function') {
    throw new InvalidOptionError(`${label}.check`, check, `${owner}: rail '${name}' (${label}) has no check function, got ${describeValue(check)}`);
  }
}

/** Rejects option names the factory does not know, so a typo (`streamfirst`) cannot silently change behaviour. */
export function assertKnownKeys(owner: string, options: unknown, known: readonly string[]): void {
  assertOptionsObject(owner, options);
  if (options === undefined) return;
  for (const key of Object.keys(options as object)) {
    if (known.includes(key)) continue;
    const suggestion = known.find((candidate) => candidate.toLowerCase() === key.toLowerCase().replace(/[_-]/g, ''));
    throw new InvalidOptionError(
      key,
      (options as Record<string, unknown>)[key],
      `${owner}: unknown option '${key}'` +
        (suggestion ? ` (did you mean '${suggestion}'?)` : `; known options: ${known.join(', ')}`),
    );
  }
}

/** An array of `{ role: string, content: string }`; `option` names it in messages (`messages`, `LLMRails.stream: messages`). */
export function assertMessages(owner: string, option: string, messages: unknown): asserts messages is readonly ChatMessage[] {
  if (!Array.isArray(messages)) {
    throw new InvalidOptionError(option, messages, `${owner}: ${option} must be an array of { role, content }, got ${describeValue(messages)}`);
  }
  messages.forEach((message: unknown, position) => {
    const { role, content } = (message ?? {}) as Partial<ChatMessage>;
    if (typeof role !== 'string' || typeof content !== 'string') {
      throw new InvalidOptionError(
        `${option}[${position}]`,
        message,
        `${owner}: ${option}[${position}] must be { role: string, content: string }, got ${describeValue(message)}`,
      );
    }
  });
}

/** A consumer's say in how fast a source reads: a DemandGate, or any object with a `ready()` method. */
export function assertDemand(owner: string, option: string, value: unknown): asserts value is Demand | undefined {
  if (value === undefined) return;
  if (value === null || typeof value !== 'object' || typeof (value as Partial<Demand>).ready !== 'function') {
    throw new InvalidOptionError(option, value, `${owner}: ${option} must be a DemandGate (or an object with ready()), got ${describeValue(value)}`);
  }
}

/** Where usage is recorded: a UsageTracker, or any object with a `next(call)` method. */
export function assertTelemetry(owner: string, option: string, value: unknown): asserts value is Telemetry {
  if (value === null || typeof value !== 'object' || typeof (value as Partial<Telemetry>).request !== 'function') {
    throw new InvalidOptionError(option, value, `${owner}: ${option} must be a Telemetry (an object with request(start)), got ${describeValue(value)}`);
  }
}

export function assertUsageSink(owner: string, option: string, value: unknown): asserts value is UsageSink {
  if (value === null || typeof value !== 'object' || typeof (value as Partial<UsageSink>).next !== 'function') {
    throw new InvalidOptionError(option, value, `${owner}: ${option} must be a UsageTracker (or an object with next(call)), got ${describeValue(value)}`);
  }
}
