// Internal: the opt-in `stream_options.include_guardrails` extension of the streamed answer. What the rails did for
// one request (each rail check, each LLM call, NeMo's explain summary at the end) rides in `guardrails.events` of
// `chat.completion.chunk` frames whose `choices` is empty, as the usage frame's is: OpenAI clients read such a chunk
// as a chunk with no choice (the official SDK yields it, like the usage chunk) and the chat page draws its timeline
// from them. Without the option nothing here runs, and the frames are those of a plain OpenAI stream.
import { Observable } from 'rxjs';
import type { LlmCallInfo, RailCheckInfo, UsageSink } from '../core/types.js';
import { fanOut } from '../usage/fanOut.js';
import { UsageTracker } from '../usage/UsageTracker.js';

/**
 * A rail decided on one window (input rails: the user's message, window 0), in the order the verdicts came.
 * `released_up_to`: how many characters (UTF-16 code units) of the answer the client had been sent once the verdict
 * was acted on: with `stream_first: false`, the text a passing window let go is included, and everything after it was
 * still held back; with `stream_first: true`, the text had gone out before the check. Input checks: 0.
 */
export interface RailCheckEvent {
  readonly type: 'rail_check';
  readonly side: 'input' | 'output';
  readonly rail: string;
  readonly window_index: number;
  /** The rail's verdict: never the text it matched (a block's match is what must not be shown). */
  readonly verdict: { readonly allowed: boolean; readonly kind: 'pass' | 'violation' | 'internal_error'; readonly reason?: string };
  /** How long the rail took to answer, in milliseconds (two decimals). */
  readonly duration_ms: number;
  released_up_to: number;
}

/** An LLM call of the request ended: the main model's, or a judge's (an LLM-judged rail). */
export interface LlmCallEvent {
  readonly type: 'llm_call';
  readonly task: string;
  readonly provider: string;
  readonly model: string;
  /** Token counts; null when the provider reported none. */
  readonly prompt_tokens: number | null;
  readonly completion_tokens: number | null;
  readonly total_tokens: number | null;
  /** Whether some counts are estimates (the call ended before the provider sent its usage). */
  readonly estimated: boolean;
  readonly outcome: 'completed' | 'error' | 'cancelled';
  readonly duration_ms: number;
}

/** The request's LLM calls as NeMo's `explain()` summarises them: the last event of the answer. */
export interface ExplainEvent {
  readonly type: 'explain';
  readonly summary: string;
}

export type GuardrailsEvent = RailCheckEvent | LlmCallEvent | ExplainEvent;

/** Events for one frame: an item of the answer next to its tokens. */
export interface GuardrailsFrame {
  readonly guardrails: readonly GuardrailsEvent[];
}

/** What the answer is built with: where its LLM calls and its rail checks are told. */
export interface GuardrailsHooks {
  readonly usage: UsageSink;
  readonly onRailCheck: (check: RailCheckInfo) => void;
}

const twoDecimals = (milliseconds: number): number => Math.round(milliseconds * 100) / 100;

/**
 * The answer `build` makes, its tokens as they come and, between them, frames of events. Events that happen in one
 * burst (a window checked and the text it released, a judge's call and its verdict) go out together, at the end of
 * the burst; an answer that ends (completes or fails) first sends what is pending and the explain event, after the
 * answer's teardown has recorded the calls it cancelled.
 *
 * `released_up_to` is set when the check's effect is known: when a later window's check comes (windows are released
 * in order, each before the next is checked) or at the end of the burst, whichever is first.
 */
export function withGuardrailsEvents(build: (hooks: GuardrailsHooks) => Observable<string>, usage?: UsageSink): Observable<string | GuardrailsFrame> {
  return new Observable<string | GuardrailsFrame>((subscriber) => {
    const calls = new UsageTracker();
    let released = 0;
    let events: GuardrailsEvent[] = [];
    /** Checks of the window in hand, waiting for what it releases. */
    let open: RailCheckEvent[] = [];
    let openWindow = '';
    let queued = false;

    const settle = () => {
      for (const check of open) check.released_up_to = released;
      open = [];
    };
    const emit = () => {
      queued = false;
      settle();
      if (events.length === 0 || subscriber.closed) return;
      const frame = { guardrails: events };
      events = [];
      subscriber.next(frame);
    };
    const schedule = () => {
      if (queued) return;
      queued = true;
      queueMicrotask(emit);
    };
    const onRailCheck = (check: RailCheckInfo) => {
      const window = `${check.side} ${check.windowIndex}`;
      if (window !== openWindow) settle();
      openWindow = window;
      const { allowed, kind, reason } = check.verdict;
      const event: RailCheckEvent = {
        type: 'rail_check',
        side: check.side,
        rail: check.rail,
        window_index: check.windowIndex,
        verdict: { allowed, kind, ...(typeof reason === 'string' ? { reason } : {}) },
        duration_ms: twoDecimals(check.durationMs),
        released_up_to: released,
      };
      // An input check decides before anything of the answer exists: its number is the one it was made with.
      if (check.side === 'output') open.push(event);
      events.push(event);
      schedule();
    };
    const record = (call: LlmCallInfo) => {
      events.push({
        type: 'llm_call',
        task: call.task,
        provider: call.provider,
        model: call.model,
        prompt_tokens: call.promptTokens ?? null,
        completion_tokens: call.completionTokens ?? null,
        total_tokens: call.totalTokens ?? null,
        estimated: call.estimated,
        outcome: call.outcome,
        duration_ms: twoDecimals(call.durationMs),
      });
      schedule();
    };
    /** After the answer's own teardown (queued behind it), so the calls it cancelled are recorded: then the summary. */
    const end = (last: () => void) =>
      queueMicrotask(() => {
        if (subscriber.closed) return;
        emit();
        subscriber.next({ guardrails: [{ type: 'explain', summary: calls.explain().summary() }] });
        last();
      });

    const answer = build({ usage: fanOut(calls, { next: record }, usage), onRailCheck }).subscribe({
      next: (token) => {
        released += token.length;
        subscriber.next(token);
      },
      error: (error: unknown) => end(() => subscriber.error(error)),
      complete: () => end(() => subscriber.complete()),
    });
    return () => answer.unsubscribe();
  });
}
