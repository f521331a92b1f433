// Internal: calls one rail on one window and turns whatever it answers into a RailVerdict.
import { catchError, defer, finalize, from, isObservable, map, type Observable, of, take, tap, throwError, throwIfEmpty, timeout } from 'rxjs';
import type { ChatMessage, ChunkBatch, OutputRail, RailContext, RailDecision, RailResult, RailRewrite, RailVerdict, UsageSink } from '../../core/types.js';
import { errorDetail } from '../../internal/errorDetail.js';
import { isPromiseLike } from '../../internal/validateOptions.js';
import type { PassedWindows } from './PassedWindows.js';
import type { RunRailSettings } from './settings.js';

/** Where a rail call's `passedPrefix` comes from: what the rails passed, the rail's position, the window's number. */
export interface PassedPrefixSource {
  readonly passed: PassedWindows;
  readonly position: number;
  readonly number: number;
}

/**
 * Calls `rail.check` now. A synchronous answer comes back as a verdict (so synchronous rails stay synchronous);
 * a Promise or Observable answer comes back as an Observable of one verdict which, when unsubscribed before it
 * answered, aborts the signal the rail was given. The verdict is also told to `passedPrefix`'s PassedWindows, so
 * that a pass lets the rail skip this window's end in the next.
 */
export function runRail(rail: OutputRail, batch: ChunkBatch, settings: RunRailSettings, passedPrefix: PassedPrefixSource): RailVerdict | Observable<RailVerdict> {
  const report = settings.onCheck?.(batch);
  const outcome = runRailNow(rail, batch, settings, passedPrefix);
  const { passed, position, number } = passedPrefix;
  if (!isObservable(outcome)) {
    passed.answered(position, number, batch.text, outcome);
    report?.(outcome);
    return outcome;
  }
  // A check unsubscribed before it answered has no verdict: it is neither recorded nor reported.
  return outcome.pipe(
    tap((verdict) => {
      passed.answered(position, number, batch.text, verdict);
      report?.(verdict);
    }),
  );
}

function runRailNow(rail: OutputRail, batch: ChunkBatch, settings: RunRailSettings, passedPrefix: PassedPrefixSource): RailVerdict | Observable<RailVerdict> {
  const context = new LazyRailContext(settings, batch, passedPrefix);
  let answer: ReturnType<OutputRail['check']>;
  // Whatever the rail does, throwing or answering something that throws when read (a getter, a Proxy), is a
  // verdict: internal_error, then per onError and the violation mode. Nothing escapes into the stream.
  try {
    answer = rail.check(batch.text, context);
    if (!isObservable(answer) && !isPromiseLike(answer)) return toVerdict(rail.name, answer, settings.onError, batch.text.length);
  } catch (error) {
    return failedVerdict(rail.name, error, settings.onError);
  }

  let answered = false;
  const answer$ = isObservable(answer) ? answer : from(answer);
  return answer$.pipe(
    take(1),
    tap(() => {
      answered = true;
    }),
    throwIfEmpty(() => new Error('its Observable completed without an answer')),
    settings.timeout === undefined
      ? (result$: Observable<RailResult>) => result$
      : timeout({ first: settings.timeout, with: () => throwError(() => new Error(`timed out after ${settings.timeout} ms`)) }),
    map((result) => toVerdict(rail.name, result, settings.onError, batch.text.length)),
    catchError((error: unknown) => of(failedVerdict(rail.name, error, settings.onError))),
    // Unsubscribed (or timed out) before the rail answered: tell the rail its work is no longer wanted.
    finalize(() => {
      if (!answered) context.abort();
    }),
  );
}

/**
 * The context of one rail call. Its AbortController is made on first use of `signal`: keyword and regex rails
 * never read it, and they run once per window. `passedPrefix` is measured on first use too: it compares the
 * window's start with the previous window's end, which only rails that skip text need.
 */
class LazyRailContext implements RailContext {
  readonly userMessage: string | undefined;
  readonly messages: readonly ChatMessage[];
  readonly usage: UsageSink | undefined;
  private controller: AbortController | undefined;
  private prefix: number | undefined;

  constructor(
    settings: RunRailSettings,
    readonly batch: ChunkBatch,
    private readonly passedPrefixSource: PassedPrefixSource,
  ) {
    this.userMessage = settings.userMessage;
    this.messages = settings.messages;
    this.usage = settings.usage;
  }

  get passedPrefix(): number {
    const { passed, position, number } = this.passedPrefixSource;
    return (this.prefix ??= passed.prefix(position, number, this.batch));
  }

  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }

  abort(): void {
    this.controller?.abort();
  }
}

/** Like runRail, but always an Observable, and the rail is only called on subscription. */
export function railVerdict$(rail: OutputRail, batch: ChunkBatch, settings: RunRailSettings, passedPrefix: PassedPrefixSource): Observable<RailVerdict> {
  return defer(() => {
    const outcome = runRail(rail, batch, settings, passedPrefix);
    return isObservable(outcome) ? outcome : of(outcome);
  });
}

/** May throw, reading an answer's fields: callers turn that into a failed verdict. */
function toVerdict(rail: string, result: unknown, onError: 'block' | 'allow', textLength: number): RailVerdict {
  if (result === true || result === false) return { rail, allowed: result, kind: result ? 'pass' : 'violation' };
  // Each field read once: a getter may answer differently the second time.
  const allowed = result !== null && typeof result === 'object' ? (result as { allowed?: unknown }).allowed : undefined;
  if (typeof allowed === 'boolean') {
    const { reason, match, details, rewrites } = result as RailDecision;
    // Spelled out (no spread): see checked() in WindowChecker.ts. Rewrites of a blocked window are moot.
    const spans = rewrites === undefined || !allowed ? undefined : checkedRewrites(rewrites, textLength);
    return { rail, allowed, kind: allowed ? 'pass' : 'violation', reason, match, details, rewrites: spans };
  }
  return failedVerdict(
    rail,
    new TypeError(`it answered ${describeAnswer(result)}; a rail must answer true/false or { allowed: boolean }`),
    onError,
  );
}

/**
 * A decision's rewrites, validated against the window (spans inside it, at least one code unit long, not
 * overlapping) and sorted by offset; undefined for an empty list. Throws for anything else: the check then fails.
 */
function checkedRewrites(rewrites: unknown, textLength: number): readonly RailRewrite[] | undefined {
  // Copied, then read: a rail must not change its spans once validated.
  const spans = [...(rewrites as RailRewrite[])].map(({ index, length, text }) => ({ index, length, text })).sort((a, b) => a.index - b.index);
  let end = 0;
  for (const { index, length, text } of spans) {
    if (!(Number.isInteger(index) && length > 0 && Number.isInteger(length) && typeof text === 'string' && index >= end && index + length <= textLength)) {
      throw new TypeError(`it answered malformed rewrites: a list of { index, length, text }, each inside the window (${textLength} long), at least 1 long, not overlapping`);
    }
    end = index + length;
  }
  return spans.length === 0 ? undefined : spans;
}

function failedVerdict(rail: string, error: unknown, onError: 'block' | 'allow'): RailVerdict {
  return { rail, allowed: onError === 'allow', kind: 'internal_error', reason: errorDetail(error), error };
}

function describeAnswer(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  switch (typeof value) {
    case 'object':
      return `an object without a boolean 'allowed'`;
    case 'string':
      return `string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value)}`;
    case 'bigint':
      return `bigint ${value}n`;
    case 'function':
      return 'a function';
    default:
      return `${typeof value} ${String(value)}`;
  }
}
