// Internal: the opt-in `stream_options.include_guardrails` extension of the streamed answer. What the rails did for
// one request (each rail check, each LLM call, NeMo's explain summary at the end) rides in `guardrails.events` of
// `chat.completion.chunk` frames whose `choices` is empty, as the usage frame's is: OpenAI clients read such a chunk
// as a chunk with no choice (the official SDK yields it, like the usage chunk) and the chat page draws its timeline
// from them. Without the option nothing here runs, and the frames are those of a plain OpenAI stream.
import { Observable } from 'rxjs';
import type { LlmCallInfo, RailCheckInfo, RailVerdict, UsageSink } from '../core/types.js';
import { fanOut } from '../usage/fanOut.js';
import { UsageTracker } from '../usage/UsageTracker.js';

/**
 * A rail decided on one window (input rails: the user's message, window 0), in the order the verdicts came.
 */
export interface RailCheckEvent {
  readonly type: 'rail_check';
  readonly side: 'input' | 'output';
  readonly rail: string;
  readonly window_index: number;
  /**
   * The rail's verdict. Its reason is for the client to show, so it never holds what the answer held back: an output
   * check's reason has every occurrence of the text the rail matched replaced by `…`, an internal error's is
   * {@link FAILED_REASON} (the error itself stays on the server), and no reason is longer than
   * {@link REASON_MAX_LENGTH} characters.
   */
  readonly verdict: { readonly allowed: boolean; readonly kind: 'pass' | 'violation' | 'internal_error'; readonly reason?: string };
  /** How long the rail took to answer, in milliseconds (two decimals). */
  readonly duration_ms: number;
  /**
   * How many characters (UTF-16 code units) of the answer had been sent to the client once the rails' decision on this
   * window took effect. With `stream_first: false` (and output rails on the whole answer) the window is checked before
   * anything of it goes out: the count includes what this decision released (a passing window lets go of all but its
   * last `context_size` items, a final one of everything), and a block releases nothing. With `stream_first: true` the
   * window's items went out before it was checked: the count is the window's end, whatever the verdict. Input checks: 0.
   * It depends on the answer and the config only, never on how fast the model or the rails were.
   */
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

/** The reason a client is sent for a rail that failed (threw, timed out, answered nothing). */
export const FAILED_REASON = 'the rail failed';
/** The longest reason a client is sent, in UTF-16 code units (longer ones are cut and end with `…`). */
export const REASON_MAX_LENGTH = 200;

/**
 * A verdict's reason as a client may see it (see {@link RailCheckEvent.verdict}). The rails write reasons for logs,
 * where quoting what they matched helps ("matched keyword \"password\""); an output check's match is the very text
 * a block holds back, so it goes, in any case; an internal error's detail may say anything about the server.
 */
function clientReason(side: 'input' | 'output', verdict: RailVerdict): string | undefined {
  if (verdict.kind === 'internal_error') return FAILED_REASON;
  let { reason } = verdict;
  if (typeof reason !== 'string') return undefined;
  const matched = verdict.match?.text;
  if (side === 'output' && typeof matched === 'string' && matched !== '') reason = reason.replace(new RegExp(matched.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), '…');
  return reason.length > REASON_MAX_LENGTH ? `${reason.slice(0, REASON_MAX_LENGTH - 1)}…` : reason;
}

/**
 * The answer `build` makes, its tokens as they come and, between them, frames of events. Events that happen in one
 * burst (a window checked and the text it released, a judge's call and its verdict) go out together, at the end of
 * the burst; an answer that ends (completes or fails) first sends what is pending and the explain event, after the
 * answer's teardown has recorded the calls it cancelled.
 *
 * `released_up_to`: a window whose items went out before its check (stream_first: true) comes with the number
 * (`RailCheckInfo.releasedBeforeCheck`). Otherwise what a check released is only counted once the release is over:
 * when a later window's check comes (windows are released in order, each before the next is checked; nothing else
 * releases text) or at the end of the burst, whichever is first.
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
      const { allowed, kind } = check.verdict;
      const reason = clientReason(check.side, check.verdict);
      const event: RailCheckEvent = {
        type: 'rail_check',
        side: check.side,
        rail: check.rail,
        window_index: check.windowIndex,
        verdict: { allowed, kind, ...(reason === undefined ? {} : { reason }) },
        duration_ms: twoDecimals(check.durationMs),
        released_up_to: check.releasedBeforeCheck ?? released,
      };
      // An input check decides before anything of the answer exists, and a window released before its check comes
      // with its number: only the others wait for what they release.
      if (check.side === 'output' && check.releasedBeforeCheck === undefined) open.push(event);
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
