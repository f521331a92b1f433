import { asyncScheduler, defer, finalize, from, merge, Observable, type SchedulerAction, type SchedulerLike, Subject, type Subscription, tap, throwError } from 'rxjs';
import type { ChatMessage, ChatModel, Demand, SourceOptions } from '../core/types.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { turnSpent } from '../internal/burstBudget.js';
import { assertDemand, assertKnownKeys, describeValue } from '../internal/validateOptions.js';
import { DemandWait } from '../sources/demandWait.js';
import { mergeBounds, type UpstreamBounds, upstreamBounds, upstreamTimeoutError, watchUpstream } from '../sources/upstreamTimeout.js';
import { CallRecorder } from '../usage/CallRecorder.js';

/** A scripted answer: its text, or an Error the call fails with (before any text). */
export type ScriptedResponse = string | Error;

/** Options of {@link scriptedModel}. */
export interface ScriptedModelOptions {
  /**
   * Milliseconds before each word (so the first word, too, comes after one delay). 0 streams every word at once.
   * @default 0
   */
  readonly delayMs?: number;
  /**
   * The model id shown in usage records.
   * @default 'scripted'
   */
  readonly model?: string;
  /**
   * Scheduler of the delays; inside `TestScheduler.run` the default one runs in virtual time.
   * @default asyncScheduler
   */
  readonly scheduler?: SchedulerLike;
  /**
   * Bounds on the waits of every call, as a provider model has them (`SourceOptions.timeout`): a `delayMs` over
   * the bound fails the call with a `ProviderError` of type `timeout`, so timeouts can be tried without a provider.
   * Timed by `scheduler`. A call's own `timeout` overrides them wait by wait.
   * @default no bound
   */
  readonly timeout?: SourceOptions['timeout'];
}

/**
 * A {@link ChatModel} that streams predefined answers word by word, for tests, demos and trying output rails on
 * known answers (NeMo's "predefined responses").
 *
 * `responses` is a list used in turn (cycling after the last) or a function of the messages and the call number.
 * Words keep their trailing whitespace (`"Hello there!"` streams `"Hello "`, `"there!"`). An Error response
 * fails the call. Usage is recorded like a provider's: prompt tokens are the words of the messages, completion
 * tokens the words streamed. `timeout` bounds the waits for the words as a provider's are bounded: a `delayMs`
 * over the bound fails the call with a `ProviderError` of type `timeout`.
 *
 * ## Example
 * ```ts
 * import { guard, keywordRail, scriptedModel } from 'rxguardrails';
 *
 * const model = scriptedModel(['Sure! The admin password is hunter2.'], { delayMs: 50 });
 * model.stream([{ role: 'user', content: 'password?' }]).pipe(guard([keywordRail(['password'])])).subscribe(console.log);
 * ```
 *
 * @param responses The answers, or a function choosing one.
 * @param options `delayMs` (default 0), `model` (default 'scripted'), `scheduler`, `timeout` (default none).
 */
export function scriptedModel(
  responses: readonly ScriptedResponse[] | ((messages: readonly ChatMessage[], call: number) => ScriptedResponse),
  options: ScriptedModelOptions = {},
): ChatModel {
  assertKnownKeys('scriptedModel', options, ['delayMs', 'model', 'scheduler', 'timeout']);
  const { delayMs = 0, model = 'scripted', scheduler = asyncScheduler } = options;
  if (typeof responses !== 'function') {
    if (!Array.isArray(responses) || responses.length === 0) {
      throw new InvalidOptionError('responses', responses, `scriptedModel: responses must be a non-empty array or a function, got ${describeValue(responses)}`);
    }
    responses.forEach((response: unknown, position) => {
      if (typeof response !== 'string' && !(response instanceof Error)) {
        throw new InvalidOptionError(`responses[${position}]`, response, `scriptedModel: responses[${position}] must be a string or an Error, got ${describeValue(response)}`);
      }
    });
  }
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
    throw new InvalidOptionError('delayMs', delayMs, `scriptedModel: delayMs must be a finite number of milliseconds, at least 0, got ${describeValue(delayMs)}`);
  }
  const modelBounds = upstreamBounds('scriptedModel', options.timeout);
  let calls = 0;
  // The listed answers are split into words once, not per call (a long answer takes milliseconds to split).
  const split = new Map<string, readonly string[]>();
  const wordsOf = (text: string): readonly string[] => {
    if (typeof responses === 'function') return words(text);
    let pieces = split.get(text);
    if (!pieces) split.set(text, (pieces = words(text)));
    return pieces;
  };

  return {
    provider: 'scripted',
    model,
    stream: (messages, callOptions = {}) => {
      const bounds = mergeBounds(modelBounds, upstreamBounds('scriptedModel.stream', callOptions.timeout));
      const { demand } = callOptions;
      assertDemand('scriptedModel.stream', 'options.demand', demand);
      return defer(() => {
        const call = calls++;
        const response = typeof responses === 'function' ? responses(messages, call) : responses[call % responses.length]!;
        const recorder = new CallRecorder(callOptions.usage, {
          provider: 'scripted',
          model,
          task: callOptions.task ?? 'general',
          messages,
        });
        recorder.report({ promptTokens: messages.reduce((sum, message) => sum + words(message.content).length, 0) });
        let streamed = 0;
        const tokens = (wanted: Demand | undefined): Observable<string> =>
          response instanceof Error
            ? throwError(() => response)
            : wanted === undefined
              ? paced(wordsOf(response), delayMs, scheduler)
              : demanded(wordsOf(response), delayMs, scheduler, wanted);
        // At no delay the words (or the Error) come at once: there is no wait for the model to bound.
        const watched$ = delayMs === 0 ? tokens(demand) : boundedBy(tokens, demand, bounds, scheduler, () => streamed > 0);
        return watched$.pipe(
          tap({
            next: (word) => {
              recorder.addText(word);
              recorder.report({ completionTokens: ++streamed });
            },
            error: () => recorder.finish('error'),
            complete: () => recorder.finish('completed'),
          }),
          // Only an unsubscription is left for finalize: the call was cut short.
          finalize(() => recorder.finish('cancelled')),
          abortWith(callOptions.signal),
        );
      });
    },
  };
}

/**
 * The words, failed with a timeout ProviderError when a wait for the next one is over its bound. Composed, so a
 * synchronous answer under take(n) still stops at once: the timeout is a Subject merged in, completed with the words.
 * A wait for the consumer's demand is not the model's: the words are given a demand that stops the idle bound
 * while it says wait.
 */
function boundedBy(
  words: (demand: Demand | undefined) => Observable<string>,
  demand: Demand | undefined,
  bounds: UpstreamBounds,
  scheduler: SchedulerLike,
  streamed: () => boolean,
): Observable<string> {
  if (bounds.firstTokenMs === undefined && bounds.idleMs === undefined) return words(demand);
  return defer(() => {
    const timedOut$ = new Subject<never>();
    const watch = watchUpstream(bounds, (wait, bound) => timedOut$.error(upstreamTimeoutError('scripted', wait, bound, streamed() ? 'stream' : 'request')), scheduler);
    const watched: Demand | undefined = demand && {
      ready: () => {
        const wait = demand.ready();
        if (wait === undefined) return undefined;
        watch.pause();
        const resume = () => watch.resume();
        Promise.resolve(wait).then(resume, resume);
        return wait;
      },
    };
    const watched$ = words(watched).pipe(tap({ next: () => watch.event(), complete: () => timedOut$.complete() }));
    return merge(watched$, timedOut$).pipe(finalize(() => watch.stop()));
  });
}

/**
 * The words: all at once at no delay, else one every `delayMs` (the first after one delay) from one action
 * rescheduling itself, so a stream holds one interval timer for all its words rather than one per word.
 */
function paced(pieces: readonly string[], delayMs: number, scheduler: SchedulerLike): Observable<string> {
  if (delayMs === 0 || pieces.length === 0) return from(pieces);
  return new Observable<string>((subscriber) =>
    scheduler.schedule(function (this: SchedulerAction<number>, index = 0) {
      subscriber.next(pieces[index]!);
      if (index + 1 < pieces.length) this.schedule(index + 1, delayMs);
      else subscriber.complete();
    }, delayMs, 0),
  );
}

/** Words given at once to a consumer that says how fast it reads: at most this many per task. */
const SLICE_WORDS = 256;

/**
 * The words for a consumer with a {@link Demand}: as {@link paced}, but a word is followed by the next only once
 * `demand.ready()` says so, and at no delay they come at most SLICE_WORDS per task (fewer once the turn's budget for
 * bursts is spent), so that a long answer given at once neither holds its reader's event loop nor outruns a reader
 * that is behind.
 */
function demanded(pieces: readonly string[], delayMs: number, scheduler: SchedulerLike, demand: Demand): Observable<string> {
  if (pieces.length === 0) return from(pieces);
  return new Observable<string>((subscriber) => {
    const demandWait = new DemandWait(demand);
    let index = 0;
    let action: Subscription | undefined;
    const next = (delay: number) => {
      action = scheduler.schedule(run, delay);
    };
    const run = () => {
      for (let emitted = 0; emitted < (delayMs === 0 ? SLICE_WORDS : 1); emitted++) {
        // A slice ends early when this turn's budget for bursts (shared with the provider sources) is spent.
        if (emitted > 0 && turnSpent()) break;
        subscriber.next(pieces[index++]!);
        if (subscriber.closed) return;
        if (index === pieces.length) return subscriber.complete();
        const wait = demandWait.next();
        if (wait) {
          void wait.then(() => !subscriber.closed && next(delayMs));
          return;
        }
      }
      next(delayMs);
    };
    if (delayMs === 0) run();
    else next(delayMs);
    return () => {
      demandWait.end();
      action?.unsubscribe();
    };
  });
}

/** Words with their trailing whitespace; leading whitespace is a piece of its own. */
export function words(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

function abortWith(signal: AbortSignal | undefined) {
  return (source: Observable<string>): Observable<string> =>
    signal === undefined
      ? source
      : new Observable<string>((subscriber) => {
          const onAbort = () => subscriber.error(signal.reason);
          if (signal.aborted) {
            onAbort();
            return undefined;
          }
          signal.addEventListener('abort', onAbort, { once: true });
          const subscription = source.subscribe(subscriber);
          return () => {
            signal.removeEventListener('abort', onAbort);
            subscription.unsubscribe();
          };
        });
}
