import { asyncScheduler, defer, finalize, from, Observable, type SchedulerAction, type SchedulerLike, tap, throwError } from 'rxjs';
import type { ChatMessage, ChatModel } from '../core/types.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { assertKnownKeys, describeValue } from '../internal/validateOptions.js';
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
}

/**
 * A {@link ChatModel} that streams predefined answers word by word, for tests, demos and trying output rails on
 * known answers (NeMo's "predefined responses").
 *
 * `responses` is a list used in turn (cycling after the last) or a function of the messages and the call number.
 * Words keep their trailing whitespace (`"Hello there!"` streams `"Hello "`, `"there!"`). An Error response
 * fails the call. Usage is recorded like a provider's: prompt tokens are the words of the messages, completion
 * tokens the words streamed.
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
 * @param options `delayMs` (default 0), `model` (default 'scripted'), `scheduler`.
 */
export function scriptedModel(
  responses: readonly ScriptedResponse[] | ((messages: readonly ChatMessage[], call: number) => ScriptedResponse),
  options: ScriptedModelOptions = {},
): ChatModel {
  assertKnownKeys('scriptedModel', options, ['delayMs', 'model', 'scheduler']);
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
  let calls = 0;

  return {
    provider: 'scripted',
    model,
    stream: (messages, callOptions = {}) =>
      defer(() => {
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
        const tokens$: Observable<string> =
          response instanceof Error ? throwError(() => response) : paced(words(response), delayMs, scheduler);
        return tokens$.pipe(
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
      }),
  };
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
