import { concatMap, defer, from, isObservable, map, Observable, reduce, throwError, toArray } from 'rxjs';
import { lastUserMessage } from '../core/messages.js';
import type { ChatMessage, RailCheckInfo, RailVerdict, Telemetry, TelemetryRequestEnd, UsageSink } from '../core/types.js';
import { RailsConfig } from '../config/RailsConfig.js';
import { ConfigError } from '../errors/ConfigError.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { RailViolationError } from '../errors/RailViolationError.js';
import { StreamingNotSupportedError } from '../errors/StreamingNotSupportedError.js';
import { brand, hasBrand } from '../internal/brand.js';
import { epochMilliseconds, now } from '../internal/clock.js';
import { guardedTelemetry, reportOnce, reportTelemetryFailure } from '../internal/guardedTelemetry.js';
import { toAsyncIterable } from '../internal/toAsyncIterable.js';
import { assertDemand, assertKnownKeys, assertMessages, assertOneOf, assertTelemetry, assertUsageSink, describeValue } from '../internal/validateOptions.js';
import { fromTokens } from '../sources/fromTokens.js';
import type { ExplainInfo } from '../usage/ExplainInfo.js';
import { fanOut } from '../usage/fanOut.js';
import { UsageTracker } from '../usage/UsageTracker.js';
import type { AssistantMessage, GenerationResponse } from './GenerationResponse.js';
import { generationLog } from './generationLog.js';
import type { GenerateOptions, LLMRailsOptions, StreamOptions } from './LLMRailsOptions.js';
import { RailRecorder } from './RailRecorder.js';
import { StreamingHandler } from './StreamingHandler.js';
import { loadEngine } from './engineModel.js';
import { behindInputRails, buildRailPlan, type CallContext, outputRails, type RailPlan } from './railPlan.js';

const STREAM_OPTION_KEYS = ['generator', 'llmParams', 'usage', 'demand', 'onInputViolation', 'onRailCheck'] as const;
const GENERATE_OPTION_KEYS = [...STREAM_OPTION_KEYS, 'streamingHandler', 'options', 'signal'] as const;

/**
 * Guardrails around an LLM, configured by a {@link RailsConfig}: input rails check the user's message, the main
 * model answers, output rails check the answer as it streams (NeMo Guardrails' `LLMRails`).
 *
 * - `stream(messages)` → `Observable<string>` (NeMo's `stream_async` as an Observable);
 * - `streamAsync(messages)` → `AsyncIterable<string>` over the same pipeline;
 * - `answer(messages)` → `Observable<string>` whatever the config: streamed when the output rails stream, else
 *   the whole checked answer as one chunk;
 * - `generate(messages, { streamingHandler, options })` → the whole message (or a GenerationResponse with a log).
 *
 * The config is interpreted once, here: models, rails (prompts compiled) and window settings. An input-rail block
 * answers NeMo's refusal ("I'm sorry, I can't respond to that.") without calling the main model. An output-rail
 * violation errors with RailViolationError (or, per `on_violation`, gives NeMo's JSON item or the refusal).
 * Unsubscribing from `stream()` or leaving a `for await` loop aborts the model request and every rail check in
 * flight. Every LLM call (the main model, LLM-judged rails) is recorded for `explain()`, once, whenever it ends.
 *
 * ## Example
 * ```ts
 * import { LLMRails } from 'rxguardrails';
 * import { RailsConfig } from 'rxguardrails/node';
 *
 * const rails = new LLMRails(await RailsConfig.fromPath('./config'));
 * for await (const chunk of rails.streamAsync([{ role: 'user', content: 'Hello!' }])) process.stdout.write(chunk);
 * rails.explain().printLlmCallsSummary();
 * ```
 */
export class LLMRails {
  static {
    brand(this, 'LLMRails');
  }

  /** Whether `value` is an LLMRails, from any copy of the package (ESM and CommonJS builds alike). */
  static isInstance(value: unknown): value is LLMRails {
    return hasBrand(value, 'LLMRails');
  }

  /** The calls of this instance, for explain(). */
  private readonly calls: UsageTracker;
  /** Where every call of this instance is recorded: `calls` and the user's tracker. */
  private readonly usage: UsageSink;
  private readonly plan: RailPlan;
  /** Where each call is reported as a request, its hooks guarded; undefined without the option (nothing is timed). */
  private readonly telemetry: Telemetry | undefined;

  /**
   * @param config The configuration.
   * @param options Models, SDK clients, custom rails, a usage tracker, violation handling.
   * @throws ConfigError for an unknown flow, a prompt that is not a valid template, a missing API key.
   */
  constructor(
    readonly config: RailsConfig,
    options: LLMRailsOptions = {},
  ) {
    if (!RailsConfig.isInstance(config)) {
      throw new InvalidOptionError('config', config, `LLMRails: config must be a RailsConfig (RailsConfig.fromContent or fromPath), got ${describeValue(config)}`);
    }
    assertKnownKeys('LLMRails', options, ['models', 'clients', 'rails', 'usage', 'onViolation', 'onInputViolation', 'keepCalls', 'telemetry', 'onTelemetryError']);
    const { models = {}, clients = {}, rails = {}, usage, onViolation, onInputViolation = 'refuse', keepCalls, telemetry, onTelemetryError = reportTelemetryFailure } = options;
    if (onViolation !== undefined) assertOneOf('LLMRails', 'onViolation', onViolation, ['error', 'chunk', 'replace'] as const);
    assertOneOf('LLMRails', 'onInputViolation', onInputViolation, ['refuse', 'error'] as const);
    if (usage !== undefined) assertUsageSink('LLMRails', 'usage', usage);
    if (telemetry !== undefined) assertTelemetry('LLMRails', 'telemetry', telemetry);
    if (typeof onTelemetryError !== 'function') {
      throw new InvalidOptionError('onTelemetryError', onTelemetryError, `LLMRails: onTelemetryError must be a function (error) => void, got ${describeValue(onTelemetryError)}`);
    }
    this.telemetry = telemetry && guardedTelemetry(telemetry, reportOnce(onTelemetryError));
    this.calls = new UsageTracker({ keep: keepCalls });
    this.usage = fanOut(this.calls, usage);
    this.plan = buildRailPlan(config, { models, clients, rails, onViolation, onInputViolation });
  }

  /**
   * The guarded answer as a token stream: input rails, then the main model (or `generator`), then the streaming
   * output rails of the config.
   * @throws StreamingNotSupportedError at call time when the config has output flows but
   * `rails.output.streaming.enabled` is not true (NeMo's rule and message); `answer()` works with either.
   */
  stream(messages: readonly ChatMessage[], options: StreamOptions = {}): Observable<string> {
    assertMessages('LLMRails.stream', 'messages', messages);
    assertKnownKeys('LLMRails.stream', options, STREAM_OPTION_KEYS);
    if (this.plan.output?.streaming === false) throw new StreamingNotSupportedError();
    return this.traced('stream', options, this.callUsage('LLMRails.stream', options.usage), (usage, railChecks) => this.pipeline(messages, options, usage, railChecks));
  }

  /** The guarded answer for `for await` (NeMo's `stream_async`); leaving the loop aborts everything in flight. */
  streamAsync(messages: readonly ChatMessage[], options: StreamOptions = {}): AsyncIterable<string> {
    return toAsyncIterable(this.stream(messages, options));
  }

  /**
   * The guarded answer as a token stream, whatever the config: as `stream()` when the output rails stream (or there
   * are none); when they check the whole answer, that answer as one chunk once it passed. Unsubscribing aborts
   * everything in flight. This is what a server or a chat that serves any config calls.
   */
  answer(messages: readonly ChatMessage[], options: StreamOptions = {}): Observable<string> {
    assertMessages('LLMRails.answer', 'messages', messages);
    assertKnownKeys('LLMRails.answer', options, STREAM_OPTION_KEYS);
    const answer$ = this.traced('answer', options, this.callUsage('LLMRails.answer', options.usage), (usage, railChecks) => this.pipeline(messages, options, usage, railChecks));
    return this.plan.output?.streaming === false ? answer$.pipe(reduce((text, chunk) => text + chunk, '')) : answer$;
  }

  /**
   * The whole guarded answer. With `streamingHandler`, the chunks go to it as they are released; with
   * `options.log`, the answer comes as a GenerationResponse with the LLM calls, the activated rails and stats.
   * Output rails run on windows when `rails.output.streaming.enabled`, otherwise once on the whole answer.
   */
  generate(messages: readonly ChatMessage[], options?: GenerateOptions & { readonly options?: undefined }): Promise<AssistantMessage>;
  generate(messages: readonly ChatMessage[], options: GenerateOptions & { readonly options: NonNullable<GenerateOptions['options']> }): Promise<GenerationResponse>;
  generate(messages: readonly ChatMessage[], options: GenerateOptions = {}): Promise<AssistantMessage | GenerationResponse> {
    assertMessages('LLMRails.generate', 'messages', messages);
    assertKnownKeys('LLMRails.generate', options, GENERATE_OPTION_KEYS);
    const { streamingHandler, options: generationOptions, signal } = options;
    if (streamingHandler !== undefined && !StreamingHandler.isInstance(streamingHandler)) {
      throw new InvalidOptionError('streamingHandler', streamingHandler, `LLMRails.generate: streamingHandler must be a StreamingHandler, got ${describeValue(streamingHandler)}`);
    }
    const started = now();
    const logged = generationOptions?.log ? { calls: new UsageTracker(), recorder: new RailRecorder() } : undefined;
    const usage = fanOut(this.callUsage('LLMRails.generate', options.usage), logged?.calls);
    const answer$ = this.traced('generate', options, usage, (callUsage, traced) => this.pipeline(messages, options, callUsage, both(logged?.recorder.railCheck, traced)));

    return new Promise<AssistantMessage | GenerationResponse>((resolve, reject) => {
      const chunks: string[] = [];
      const fail = (error: unknown) => {
        signal?.removeEventListener('abort', onAbort);
        streamingHandler?.error(error);
        reject(error);
      };
      const onAbort = () => {
        subscription.unsubscribe();
        fail(signal!.reason);
      };
      const subscription = answer$.subscribe({
        next: (chunk) => {
          chunks.push(chunk);
          streamingHandler?.pushChunk(chunk);
        },
        error: fail,
        complete: () => {
          signal?.removeEventListener('abort', onAbort);
          streamingHandler?.finish();
          const message: AssistantMessage = { role: 'assistant', content: chunks.join('') };
          if (!generationOptions) return resolve(message);
          const log = generationOptions.log && logged ? { log: generationLog(generationOptions.log, logged.calls.snapshot().calls, logged.recorder, now() - started) } : {};
          resolve({ response: [message], ...log });
        },
      });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Imports now what is otherwise imported on the first call that needs it: the SDKs of the config's engines
   * (`openai`, `@anthropic-ai/sdk`), and the regex and Jinja engines of its `regex check` and LLM-judged flows.
   * Loading an SDK holds the event loop for tens of milliseconds, so a server warms up before it listens
   * (`createApp` does). A config read by `RailsConfig.fromContent` in a browser, before anything loaded the engines,
   * had its patterns and prompts checked in all but what only the engines can tell (a template's syntax, a count
   * above 1000): warming up checks the rest, where otherwise the first check of such a rail fails (closed).
   * Models given in `models` or made from `clients` need nothing.
   * @throws ConfigError (rejects) naming the package when an engine's SDK is not installed, or the prompt or pattern
   *   the engines refuse.
   */
  async warmUp(): Promise<void> {
    await Promise.all([...this.plan.models.map(loadEngine), this.plan.ready()]);
  }

  /** NeMo's explain info: every LLM call made through this instance so far. */
  explain(): ExplainInfo {
    return this.calls.explain();
  }

  /** Where one call's LLM calls are recorded: this instance's sink, and the call's own when it has one. */
  private callUsage(owner: string, usage: UsageSink | undefined): UsageSink {
    if (usage === undefined) return this.usage;
    assertUsageSink(owner, 'usage', usage);
    return fanOut(this.usage, usage);
  }

  /**
   * The answer `build` makes, reported to telemetry as one request per subscription: its LLM calls (through the usage
   * sink `build` is given), its rail checks, and how it ended, once the answer's own teardown (which records the LLM
   * calls it cancels) has run. Without telemetry, `build`'s answer itself: nothing added on the path of a token.
   * The call's options are checked here, when the call is made, with telemetry or without.
   */
  private traced(
    operation: 'stream' | 'answer' | 'generate',
    options: StreamOptions,
    usage: UsageSink,
    build: (usage: UsageSink, railChecks: ((check: RailCheckInfo) => void) | undefined) => Observable<string>,
  ): Observable<string> {
    const { demand, onInputViolation, onRailCheck } = options;
    assertDemand('LLMRails', 'demand', demand);
    if (onInputViolation !== undefined) assertOneOf('LLMRails', 'onInputViolation', onInputViolation, ['refuse', 'error'] as const);
    if (onRailCheck !== undefined && typeof onRailCheck !== 'function') {
      throw new InvalidOptionError('onRailCheck', onRailCheck, `LLMRails.${operation}: onRailCheck must be a function (check) => void, got ${describeValue(onRailCheck)}`);
    }
    const { telemetry } = this;
    if (!telemetry) return build(usage, onRailCheck);
    return new Observable<string>((subscriber) => {
      const request = telemetry.request({ operation, startedAt: epochMilliseconds(now()) });
      let blockedBy: RailVerdict | undefined;
      let ending: Omit<TelemetryRequestEnd, 'finishedAt'> = { outcome: 'cancelled' };
      const railCheck = (check: RailCheckInfo) => {
        // A block that answers in band (NeMo's payload, the refusal) completes the stream: the verdict tells.
        if (!check.verdict.allowed) blockedBy ??= check.verdict;
        request.railCheck(check);
      };
      const inner = build(fanOut(usage, { next: (call) => request.llmCall(call) }), both(railCheck, onRailCheck)).subscribe({
        next: (chunk) => subscriber.next(chunk),
        error: (error: unknown) => {
          const violation = RailViolationError.isInstance(error) ? error.info.verdict : undefined;
          ending = violation ? { outcome: 'blocked', blockedBy: violation, error } : { outcome: 'error', error };
          subscriber.error(error);
        },
        complete: () => {
          ending = blockedBy ? { outcome: 'blocked', blockedBy } : { outcome: 'completed' };
          subscriber.complete();
        },
      });
      return () => {
        inner.unsubscribe();
        request.end({ ...ending, finishedAt: epochMilliseconds(now()) });
      };
    });
  }

  /** Input rails, the main model (or the generator), output rails: one call, from the plan. */
  private pipeline(messages: readonly ChatMessage[], options: StreamOptions, usage: UsageSink, railChecks: ((check: RailCheckInfo) => void) | undefined): Observable<string> {
    // Rails whose module is not loaded yet (the regex or Jinja engine, in a page that just started) are made before
    // the call starts, so a synchronous rail answers synchronously from its first window on (with streamFirst, an
    // asynchronous first check would let more of the answer out before a block), and what making them finds (a
    // prompt that is not a template) ends the call as the ConfigError it is. Otherwise the call starts at once.
    if (!this.plan.isReady()) return from(this.plan.ready()).pipe(concatMap(() => this.pipelineNow(messages, options, usage, railChecks)));
    return this.pipelineNow(messages, options, usage, railChecks);
  }

  private pipelineNow(messages: readonly ChatMessage[], options: StreamOptions, usage: UsageSink, railChecks: ((check: RailCheckInfo) => void) | undefined): Observable<string> {
    const { generator, llmParams = {}, demand, onInputViolation } = options;
    const call = { messages, userMessage: lastUserMessage(messages), usage, railChecks, onInputViolation };
    if (generator !== undefined) return (isObservable(generator) ? generator : fromTokens(generator, { demand })).pipe(outputRails(this.plan, call));
    const model = this.plan.main;
    if (!model) {
      return throwError(
        () => new ConfigError([this.config.issue(['models'], 'no model of type main: add one to the config, or pass LLMRails({ models: { main } }) or a generator')]),
      );
    }
    // The call as the input rails leave it: its user message masked, when a flow masks it.
    const answer = (checked: CallContext) =>
      defer(() => {
        const tokens$ = model.stream(checked.messages, { ...llmParams, usage, task: 'general', ...(demand ? { demand } : {}) });
        // `streaming: False` (NeMo v0.19's key) asks for the answer as one chunk; without it the model streams, as in NeMo v0.20+.
        return (this.config.streaming ? tokens$ : tokens$.pipe(toArray(), map((tokens) => tokens.join('')))).pipe(outputRails(this.plan, checked));
      });
    return behindInputRails(this.plan, call, answer);
  }
}

/** Both listeners, or the one there is. */
function both(first: ((check: RailCheckInfo) => void) | undefined, second: ((check: RailCheckInfo) => void) | undefined): ((check: RailCheckInfo) => void) | undefined {
  if (!first || !second) return first ?? second;
  return (check) => {
    first(check);
    second(check);
  };
}
