import { concat, defer, from, type Observable, scan, startWith, Subject } from 'rxjs';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { brand, hasBrand } from '../internal/brand.js';
import { addUsage } from './addUsage.js';
import { ExplainInfo } from './ExplainInfo.js';
import type { LlmCallInfo, Usage, UsageSink } from '../core/types.js';

/** Running totals over the calls recorded by a UsageTracker. */
export interface UsageTotals extends Usage {
  readonly calls: number;
  /** Calls whose counts are (partly) estimates. */
  readonly estimatedCalls: number;
  readonly durationMs: number;
}

/** How many of the latest calls a UsageTracker keeps unless told otherwise. */
export const DEFAULT_KEPT_CALLS = 1000;

const NO_CALLS: UsageTotals = { calls: 0, estimatedCalls: 0, durationMs: 0, promptTokens: undefined, completionTokens: undefined, totalTokens: undefined };

function addCall(totals: UsageTotals, call: LlmCallInfo): UsageTotals {
  const { promptTokens, completionTokens, totalTokens } = addUsage(totals, call);
  // Spelled out, not spread: a spread followed by more properties falls off V8's fast path (Node 20).
  return {
    promptTokens,
    completionTokens,
    totalTokens,
    calls: totals.calls + 1,
    estimatedCalls: totals.estimatedCalls + (call.estimated ? 1 : 0),
    durationMs: totals.durationMs + call.durationMs,
  };
}

/**
 * Collects the LLM calls of any number of streams (the main model and LLM-judged rails alike), for totals and
 * NeMo's `explain()` summary.
 *
 * Token sources and models record into it when given `{ usage: tracker }`: exactly one record per call, when
 * the call completes, fails or is unsubscribed. It never completes: one tracker serves many streams. Record from
 * your own pipelines with `tap({ next: (call) => tracker.next(call) })`.
 *
 * ```
 * next(a)  next(b)
 * calls$:   --a------b---     every call, the ones recorded before subscribing first
 * totals$:  t-A------B---     the totals so far, then after each call
 * ```
 *
 * ## Example
 * ```ts
 * import { fromOpenAI, guard, keywordRail, UsageTracker } from 'rxguardrails';
 *
 * const usage = new UsageTracker();
 * fromOpenAI(client, { model: 'gpt-4o-mini', messages }, { usage }).pipe(guard([keywordRail(['secret'])])).subscribe();
 * usage.totals$.subscribe((totals) => console.log(totals.totalTokens));
 * // later
 * usage.explain().printLlmCallsSummary();
 * ```
 */
export class UsageTracker implements UsageSink {
  static {
    brand(this, 'UsageTracker');
  }

  /** Whether `value` is a UsageTracker, from any copy of the package (ESM and CommonJS builds alike). */
  static isInstance(value: unknown): value is UsageTracker {
    return hasBrand(value, 'UsageTracker');
  }

  /** The kept calls: a ring of `keep` once full, whose oldest call is at `oldest`. */
  private readonly recorded: LlmCallInfo[] = [];
  private oldest = 0;
  private readonly live$ = new Subject<LlmCallInfo>();
  private totals: UsageTotals = NO_CALLS;
  private readonly keep: number;

  /**
   * @param options `keep`: how many of the latest calls to keep for `snapshot()`, `explain()` and the replay of
   * `calls$`; the totals count every call, whatever it is. `Infinity` keeps them all (memory then grows with every
   * call: 1 M calls took 247 MiB).
   * @default keep: 1000
   */
  constructor(options: { readonly keep?: number } = {}) {
    const { keep = DEFAULT_KEPT_CALLS } = options;
    if (!(keep === Number.POSITIVE_INFINITY || (Number.isInteger(keep) && keep >= 0))) {
      throw new InvalidOptionError('keep', keep, `UsageTracker: keep must be a whole number of calls (or Infinity), got ${String(keep)}`);
    }
    this.keep = keep;
  }

  /** The kept calls, oldest first (at most `keep`: see the constructor). Then each new one. Never completes. */
  readonly calls$: Observable<LlmCallInfo> = defer(() => concat(from(this.kept()), this.live$));

  /** The totals so far on subscription, then after each new call. Never completes. */
  readonly totals$: Observable<UsageTotals> = defer(() => this.live$.pipe(scan(addCall, this.totals), startWith(this.totals)));

  /** Records one call. */
  next(call: LlmCallInfo): void {
    if (call === null || typeof call !== 'object' || typeof call.task !== 'string' || typeof call.durationMs !== 'number') {
      throw new InvalidOptionError('call', call, 'UsageTracker.next: expected an LlmCallInfo ({ id, task, provider, model, durationMs, ... })');
    }
    const { recorded, keep } = this;
    if (recorded.length < keep) recorded.push(call);
    else if (keep > 0) {
      recorded[this.oldest] = call;
      this.oldest = (this.oldest + 1) % keep;
    }
    this.totals = addCall(this.totals, call);
    this.live$.next(call);
  }

  /** The kept calls (the latest `keep`, oldest first) and the totals of every call recorded so far. */
  snapshot(): { readonly calls: readonly LlmCallInfo[]; readonly totals: UsageTotals } {
    return { calls: this.kept(), totals: this.totals };
  }

  /**
   * NeMo's explain info over the kept calls, in the order the calls started (as NeMo lists them: it appends a call
   * when it starts; calls are recorded here when they end, with their usage).
   */
  explain(): ExplainInfo {
    return new ExplainInfo(this.kept().sort((a, b) => a.startedAt - b.startedAt));
  }

  /** A copy of the kept calls, oldest first. */
  private kept(): LlmCallInfo[] {
    const { recorded, oldest } = this;
    return oldest === 0 ? [...recorded] : [...recorded.slice(oldest), ...recorded.slice(0, oldest)];
  }
}
