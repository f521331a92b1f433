// Internal: the pump shared by the provider sources: opens the SDK stream with an AbortSignal, emits the text
// its events carry, records the call's usage once, bounds the waits for the provider, reads on only as its
// consumer's demand says, lets other work have the event loop during a burst, and turns failures into ProviderError.
import { Observable } from 'rxjs';
import type { ChatMessage, SourceOptions } from '../core/types.js';
import { GuardrailError } from '../errors/GuardrailError.js';
import { BurstBudget } from '../internal/burstBudget.js';
import { CallRecorder } from '../usage/CallRecorder.js';
import { DemandWait } from './demandWait.js';
import { toProviderError } from './toProviderError.js';
import { type UpstreamBounds, upstreamTimeoutError, watchUpstream } from './upstreamTimeout.js';

export interface ProviderStreamSpec<E> {
  readonly provider: string;
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly options: SourceOptions;
  /** The bounds of `options.timeout`, checked by the source's factory. */
  readonly bounds: UpstreamBounds;
  /** Starts the request; the signal aborts it (and the SDK then ends its iteration quietly). */
  open(signal: AbortSignal): PromiseLike<AsyncIterable<E>>;
  /** Reads one event: returns the text it carries (if any), reports usage, throws for error events. */
  read(event: E, call: CallRecorder): string | undefined;
  /**
   * Whether the answer is whole once this event was read: the provider's own mark that its text is complete, which
   * the SDKs do not end their iteration at (they read on to the body's end). From then on a failure of the rest of
   * the stream (a connection dropped before the body's end, a stall over the idle bound, an error event) completes
   * the stream, with the usage reported so far and estimates for the rest, instead of failing an answer that was
   * whole. Without it, only the stream's end completes it.
   *
   * A stream that goes well still completes at the body's end, not at this event (fetchOpenAIChat, which parses
   * the body itself, completes at `[DONE]`): leaving the SDK's iteration before the body's end makes the SDK abort
   * the request (it takes that for a `break`), so when the last frames come in a later read each call costs a new
   * connection and the provider sees its client go away; and completing while reading on would leave the rest of
   * the request with no owner.
   */
  ends?(event: E): boolean;
  /**
   * Whether `error`, thrown by the stream after {@link ends} said the answer was whole, fails the stream all the same:
   * for a source whose later events can take back text it already sent, as a guardrails server's violation frame can
   * (it speaks of the text streamed before it). Asked only about what the stream throws: a stall over the idle bound
   * (the source's own clock) completes a whole answer whatever this says, and the caller's abort always errors.
   * Without it, every failure after the whole answer completes the stream.
   */
  overrules?(error: unknown): boolean;
  /**
   * The stream ended normally: the last reports before the call is recorded as completed (for providers whose
   * usage is only final at the end, as LangChain's usage deltas are).
   */
  end?(call: CallRecorder): void;
}

export function providerStream<E>(spec: ProviderStreamSpec<E>): Observable<string> {
  const { demand } = spec.options;
  return new Observable<string>((subscriber) => {
    const { usage, task = 'general', signal } = spec.options;
    const call = new CallRecorder(usage, { provider: spec.provider, model: spec.model, task, messages: spec.messages });
    const controller = new AbortController();
    // Whether an event said the answer is whole (spec.ends).
    let whole = false;
    // `overruled`: spec.overrules said this failure of the stream stands even after the whole answer.
    const fail = (error: unknown, overruled = false) => {
      watch.stop();
      if (subscriber.closed) return;
      // What the stream does after the answer was whole cannot unmake it: the call completes, recorded with the usage
      // reported so far (CallRecorder estimates what is missing, as for a cancellation). The teardown then aborts
      // what is left of the request. The caller's own abort still errors with its reason: they asked to stop. So
      // does a failure the source says overrules the answer (a guardrails server's violation frame).
      if (whole && !overruled && !signal?.aborted) {
        call.finish('completed');
        subscriber.complete();
        return;
      }
      call.finish(signal?.aborted ? 'cancelled' : 'error');
      // The library's own errors pass through as they are: a guardrails server's violation frame stays a violation
      // (fromGuardrailsServer), an item a source cannot read or a stream given twice (fromLangChain) stays that;
      // anything else is the provider's.
      const failure = GuardrailError.isInstance(error) ? error : toProviderError(spec.provider, error, call.streamed ? 'stream' : 'request');
      subscriber.error(signal?.aborted ? signal.reason : failure);
    };
    // A wait over its bound fails the call first, then the teardown aborts the request: the SDK's rejection
    // (an abort) that follows finds the subscriber closed.
    const watch = watchUpstream(spec.bounds, (wait, bound) => fail(upstreamTimeoutError(spec.provider, wait, bound, call.streamed ? 'stream' : 'request')));
    const onAbort = () => {
      controller.abort(signal?.reason);
      fail(signal?.reason);
    };
    if (signal?.aborted) {
      onAbort();
      return undefined;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    const demanded = new DemandWait(demand);

    const burst = new BurstBudget();
    // Whether the provider's stream ended: its request is over, and aborting it would only cost an AbortError
    // (a DOMException with its stack) and the signal's listeners, per request.
    let completed = false;
    (async () => {
      const events = await spec.open(controller.signal);
      for await (const event of events) {
        if (subscriber.closed) return;
        watch.event();
        const text = spec.read(event, call);
        if (spec.ends?.(event)) whole = true;
        if (text) {
          call.addText(text);
          subscriber.next(text);
          const wait = demanded.next();
          if (wait) {
            watch.pause();
            await wait;
            if (subscriber.closed) return;
            watch.resume();
          }
        }
        const turn = burst.spent();
        if (turn) {
          await turn;
          if (subscriber.closed) return;
        }
      }
      watch.stop();
      if (subscriber.closed) return;
      spec.end?.(call);
      completed = true;
      call.finish('completed');
      subscriber.complete();
    })().catch((error: unknown) => fail(error, whole && spec.overrules?.(error) === true));

    return () => {
      demanded.end();
      watch.stop();
      signal?.removeEventListener('abort', onAbort);
      // Aborting ends the HTTP request; the SDK's iteration then ends quietly and nothing more is emitted.
      if (!completed) controller.abort();
      call.finish('cancelled');
    };
  });
}
