// The shared vocabulary of rxguardrails, on the ground floor: types only. Every layer above (errors, usage, rails,
// operators, sources, models, config, the facade, server and CLI) speaks in these words; this file imports nothing
// but RxJS's Observable type.
import type { Observable } from 'rxjs';

// ---------------------------------------------------------------------------------------------------------------
// Conversations

/** One message of a chat conversation, as OpenAI-style APIs exchange them. */
export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant' | 'tool' | (string & {});
  readonly content: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Windows

/** One window of the token stream, as the rails see it. */
export interface ChunkBatch {
  /** Position of the window in the stream, from 0. */
  readonly index: number;
  /** All items of the window, concatenated: what the rails check. */
  readonly text: string;
  /** The items no earlier window contained: all of window 0, the last `chunkSize - contextSize` items after it. */
  readonly chunks: readonly string[];
  /** True for the window emitted when the source completed (it covers the items no full window reached). */
  readonly final: boolean;
  /** How many trailing items of this window the next window checks again: `contextSize`, or 0 for the final one. */
  readonly overlap: number;
}

/** A window with the verdicts of the rails that ran on it. */
export interface CheckedBatch extends ChunkBatch {
  /** Verdicts of the rails that decided, in rail order (a cancelled rail has none). */
  readonly verdicts: readonly RailVerdict[];
  /** The verdict that blocked this window, if one did. */
  readonly blocked?: RailVerdict;
}

// ---------------------------------------------------------------------------------------------------------------
// Rails

/** Where a rail found what it objects to, inside the window text it was given. */
export interface RailMatch {
  /** The matched text, as it appears in the window. */
  readonly text: string;
  /** Offset of the match in the window text. */
  readonly index: number;
}

/**
 * A part of the window text a rail replaces (see {@link RailDecision.rewrites}): the `length` UTF-16 code units from
 * `index` of the text the rail was given become `text`.
 */
export interface RailRewrite {
  /** Offset in the window text, UTF-16 code units, from 0. */
  readonly index: number;
  /** How many code units are replaced; at least 1. */
  readonly length: number;
  /** What is released in their place (`<EMAIL_ADDRESS>`). */
  readonly text: string;
}

/**
 * What a rail may answer with, besides a plain boolean (`true` = allowed).
 *
 * `rewrites` (an allowed window only) asks for parts of the window to be released changed, as masking does
 * (`maskSensitiveDataRail` answers `{ allowed: true, rewrites: [{ index: 5, length: 19, text: '<CREDIT_CARD>' }] }`).
 * The spans are in the window text's UTF-16 offsets and must not overlap; a malformed list fails the check (and a
 * rewriting rail that fails under `onError: 'allow'` lets its window through unrewritten). The other rails still see
 * the raw window; the text is changed where it is released:
 * - `guard` with `streamFirst: false` (and `blockOnViolation`, and LLMRails' whole-answer check) releases an item
 *   only when no later window can extend a rewritten span touching it, and releases it with the spans replaced,
 *   each span whole: never part of the raw text of a span. A span is decided by the window whose items the next
 *   window does not re-check (a span found in a window's last `contextSize` items is left to the next window,
 *   which sees it from its start); a later window's span that overlaps it extends it.
 * - `guard` with `streamFirst: true` cannot rewrite what it released on arrival: a window answered with rewrites
 *   there fails closed, as an `internal_error` of the rail, whatever `onError` says.
 */
export interface RailDecision {
  readonly allowed: boolean;
  /** Why, in words a log reader understands ("matched keyword \"secret\""). */
  readonly reason?: string;
  readonly match?: RailMatch;
  /** Anything else the rail wants to report (scores, categories). */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Replacements in the window's text, for an allowed window (see above). */
  readonly rewrites?: readonly RailRewrite[];
}

/** Everything a rail check may return: synchronously, as a Promise, or as an Observable (its first value counts). */
export type RailResult = boolean | RailDecision;

/**
 * A rail's decision on one window, as `checkRail` records it.
 * - `kind: 'pass'`: the rail allowed the window.
 * - `kind: 'violation'`: the rail blocked it.
 * - `kind: 'internal_error'`: the rail threw, rejected, timed out or answered nothing; `allowed` then follows the
 *   `onError` policy (fail closed by default) and `error` holds what went wrong.
 */
export interface RailVerdict extends RailDecision {
  /** Name of the rail that decided. */
  readonly rail: string;
  readonly kind: 'pass' | 'violation' | 'internal_error';
  readonly error?: unknown;
}

/** What a rail knows besides the window text. */
export interface RailContext {
  /** Text of the last user message, when the pipeline was given messages. */
  readonly userMessage?: string;
  /** The conversation the guarded answer belongs to (empty when none was given). */
  readonly messages: readonly ChatMessage[];
  /** The window being checked. */
  readonly batch: ChunkBatch;
  /**
   * Aborts when the check is no longer wanted: the pipeline was unsubscribed (a violation, the consumer left) or,
   * in parallel mode, a sibling rail already blocked this window. Pass it on to `fetch`/SDK calls.
   */
  readonly signal: AbortSignal;
  /**
   * Where the LLM calls a rail makes are recorded, when the pipeline was given one (`checkRail` / `guard` option
   * `usage`; `LLMRails` passes each call's own). LLM-judged rails pass it on to their model, as they pass `signal`.
   */
  readonly usage?: UsageSink;
  /**
   * How many characters at the start of the text this rail has already passed: the window's context, when the
   * rail allowed the window before it (a `'pass'` verdict) and that context is the end of that window's text.
   * Anything lying wholly inside them was already checked, so a rail that looks for something in the text (a
   * keyword, a pattern of bounded length) may look only at what ends after them; `keywordRail` does. 0 (or absent)
   * when nothing is known: the first window, after a block or a failed check, while the window before is still
   * being checked (`concurrency`), a rail called outside guard and checkRail. Measured when first read, then kept.
   */
  readonly passedPrefix?: number;
}

/**
 * An output rail: a named check of the text of each window.
 *
 * `check` may answer synchronously (and then stays synchronous, so marble tests can drive it), with a Promise, or
 * with an Observable whose first value counts. `true` or `{ allowed: true }` means allowed.
 */
export interface OutputRail {
  /** Unique within a pipeline; shown in verdicts and in NeMo's error payload (`Blocked by <name> rails.`). */
  readonly name: string;
  check(text: string, context: RailContext): RailResult | PromiseLike<RailResult> | Observable<RailResult>;
  /**
   * Declares that the rail answers with rewrites ({@link RailDecision.rewrites}, as masking does): `guard` then
   * refuses `streamFirst: true` when it is built, rather than failing the first rewritten window closed.
   */
  readonly rewrites?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Usage

/**
 * Token counts of one LLM call or of many. `undefined` means unknown, which is not the same as 0: a provider that
 * reported nothing has unknown usage, a provider that reported 0 tokens has 0.
 */
export interface Usage {
  readonly promptTokens?: number;
  readonly completionTokens?: number;
  readonly totalTokens?: number;
}

/** One LLM call (the main model or an LLM-judged rail), as a UsageTracker records it. */
export interface LlmCallInfo extends Usage {
  /** Unique per call. */
  readonly id: string;
  /** What the call was for, in NeMo's task names: `general`, `self_check_input`, `self_check_output`, ... */
  readonly task: string;
  /** `openai`, `anthropic`, `scripted`, or whatever a custom source reports. */
  readonly provider: string;
  readonly model: string;
  readonly durationMs: number;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  readonly finishedAt: number;
  /**
   * True when some counts are estimates: the stream ended (a violation, an unsubscription, an error) before the
   * provider sent its usage, or the provider never sends any.
   */
  readonly estimated: boolean;
  /** How the call ended. */
  readonly outcome: 'completed' | 'error' | 'cancelled';
}

/**
 * Where LLM calls are recorded: anything with `next(call)`. A `UsageTracker` is one; so is an RxJS `Subject` (only
 * `next` is ever called, so it is never completed by the end of one stream).
 */
export interface UsageSink {
  next(call: LlmCallInfo): void;
}

// ---------------------------------------------------------------------------------------------------------------
// Sources and models

/**
 * The consumer's say in how fast a source reads (backpressure). Before reading more from its provider, a source
 * calls `ready()`: `undefined` means go on, a promise means wait until it settles. So a consumer that cannot keep up
 * (a server whose client has not taken the last frames) stops the model's stream instead of buffering it: the
 * provider's HTTP response is left unread until then. `DemandGate` is one, paused and resumed by its owner.
 */
export interface Demand {
  ready(): PromiseLike<void> | undefined;
}

/** Options every provider source takes. */
export interface SourceOptions {
  /** Where to record this call's usage (once, when it ends): a UsageTracker or any {@link UsageSink}. */
  readonly usage?: UsageSink;
  /**
   * The call's task name in usage records, as NeMo names them.
   * @default 'general'
   */
  readonly task?: string;
  /** Aborts the request from outside; the stream then errors with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * Bounds on the waits of the call, in milliseconds: `firstTokenMs` from the subscription to the provider's first
   * stream event (the request answered and streaming), `idleMs` between two events. A number bounds both; an object
   * bounds the waits it names. A wait over its bound aborts the request, and the stream errors with a
   * `ProviderError` of type `timeout` (code `upstream_timeout`). The SDK's own retries happen inside the
   * first-token wait, so the bound is the whole wait.
   * @default no bound
   */
  readonly timeout?: number | { readonly firstTokenMs?: number; readonly idleMs?: number };
  /**
   * Backpressure: asked after each token whether to read on (see {@link Demand}). While it says wait, nothing more
   * is read from the provider, and the idle timeout does not run (the wait is the consumer's, not the provider's).
   * @default read as fast as the provider sends
   */
  readonly demand?: Demand;
}

/** Options of one model call: the source options, plus provider parameters passed through (temperature, ...). */
export interface ChatModelCallOptions extends SourceOptions {
  readonly [parameter: string]: unknown;
}

/**
 * A chat model as the rest of rxguardrails calls it: messages in, a cold token stream out. Each subscription is
 * one call; unsubscribing aborts it. `openAIModel`, `anthropicModel` and `scriptedModel` make one; any object of
 * this shape works.
 */
export interface ChatModel {
  /** `openai`, `anthropic`, `scripted`, ...: shown in usage records. */
  readonly provider: string;
  readonly model: string;
  stream(messages: readonly ChatMessage[], options?: ChatModelCallOptions): Observable<string>;
}

// ---------------------------------------------------------------------------------------------------------------
// Telemetry

/**
 * Instrumentation hooks: what `LLMRails` and `createApp` report about each request, for tracing and metrics. The
 * library depends on nothing to call them; `rxguardrails/otel`'s `openTelemetry()` is one implementation (spans and
 * metrics through `@opentelemetry/api`), any object of this shape is another. A hook that throws is caught and
 * reported once; it never breaks the answer.
 */
export interface Telemetry {
  /** A request starts: one subscription to `stream()` / `answer()`, one `generate()`, one server request. */
  request(start: TelemetryRequestStart): TelemetryRequest;
}

/** What is known when a request starts. */
export interface TelemetryRequestStart {
  /** Which LLMRails method serves it. */
  readonly operation: 'stream' | 'answer' | 'generate';
  /** The server's config id, for a server request. */
  readonly configId?: string;
  /** Epoch milliseconds. */
  readonly startedAt: number;
}

/** The hooks of one request; each is called as its event ends, with the real start and end times. */
export interface TelemetryRequest {
  /** An LLM call of the request ended (the main model, or an LLM-judged rail's): the record `explain()` gets. */
  llmCall(call: LlmCallInfo): void;
  /** A rail decided on one window (input rails: the user's message, window 0). A check cancelled first is not reported. */
  railCheck(check: RailCheckInfo): void;
  /** The request ended; called once, after its LLM calls and rail checks. */
  end(end: TelemetryRequestEnd): void;
}

/** One rail check, as a telemetry hook gets it. */
export interface RailCheckInfo {
  readonly rail: string;
  readonly side: 'input' | 'output';
  /** The window's position in the answer, from 0 (always 0 for input rails). */
  readonly windowIndex: number;
  readonly verdict: RailVerdict;
  readonly durationMs: number;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  readonly finishedAt: number;
  /**
   * Output checks of a guard with `streamFirst: true`, which releases a window's items before it checks the window:
   * how many characters (UTF-16 code units) of the answer had been released when the window was checked, i.e. where
   * the window ends in the answer. Absent where the check comes before the release (`streamFirst: false`, output
   * rails on the whole answer, input rails).
   */
  readonly releasedBeforeCheck?: number;
}

/** How a request ended. */
export interface TelemetryRequestEnd {
  /**
   * `blocked`: a rail blocked (whether that ended the stream with a RailViolationError, NeMo's payload or the refusal);
   * `error`: it failed otherwise; `cancelled`: the subscriber left first.
   */
  readonly outcome: 'completed' | 'blocked' | 'error' | 'cancelled';
  /** The verdict that blocked, for `blocked`. */
  readonly blockedBy?: RailVerdict;
  /** What it failed with, for `error` (and for a block that ended the stream with a RailViolationError). */
  readonly error?: unknown;
  /** Epoch milliseconds. */
  readonly finishedAt: number;
}
