import { now } from '../internal/clock.js';
import { concatMap, defer, EMPTY, finalize, isObservable, map, type Observable, of, type OperatorFunction, throwError, toArray } from 'rxjs';
import { RailsConfig } from '../config/RailsConfig.js';
import type { PromptConfig } from '../config/railsConfigSchema.js';
import { ConfigError } from '../errors/ConfigError.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { RailViolationError } from '../errors/RailViolationError.js';
import { StreamingNotSupportedError } from '../errors/StreamingNotSupportedError.js';
import { toAsyncIterable } from '../internal/toAsyncIterable.js';
import { assertKnownKeys, assertMessages, assertOneOf, describeValue } from '../internal/validateOptions.js';
import type { ChatModel } from '../models/ChatModel.js';
import { DEFAULT_REPLACEMENT, releaseOrBlock, resolveViolationSettings } from '../operators/blockOnViolation.js';
import type { ChunkBatch } from '../operators/bufferChunks.js';
import { checkRail, checkWith, resolveCheckSettings } from '../operators/checkRail.js';
import { guard } from '../operators/guard.js';
import { railNamed } from '../rails/defineRail.js';
import { keywordRail } from '../rails/keywordRail.js';
import type { ChatMessage, OutputRail } from '../rails/OutputRail.js';
import { regexRail } from '../rails/regexRail.js';
import { compilePrompt, type PromptTemplate, selfCheckInput, selfCheckOutput } from '../rails/selfCheck.js';
import { fromTokens } from '../sources/fromTokens.js';
import type { ExplainInfo } from '../usage/ExplainInfo.js';
import type { LlmCallInfo } from '../usage/LlmCallInfo.js';
import { UsageTracker } from '../usage/UsageTracker.js';
import { type EngineClients, engineModel } from './engineModel.js';
import type { AssistantMessage, GenerationLog, GenerationLogOptions, GenerationResponse } from './GenerationResponse.js';
import { RailRecorder } from './RailRecorder.js';
import type { StreamingHandler } from './StreamingHandler.js';

/** Options of {@link LLMRails}. */
export interface LLMRailsOptions {
  /**
   * Models by type (`main`, `self_check_output`, `self_check_input`), instead of or over the config's entries.
   * A judge without a model of its own uses the main model.
   */
  readonly models?: Readonly<Record<string, ChatModel>>;
  /** SDK clients for the config's `openai` / `anthropic` entries; without one, a client is made from the environment. */
  readonly clients?: EngineClients;
  /** Rails for flow names of your own (or to replace a built-in flow), by flow name. */
  readonly rails?: Readonly<Record<string, OutputRail | OutputRail['check']>>;
  /** Also record every LLM call here (explain() always covers this instance's calls). */
  readonly usage?: UsageTracker;
  /**
   * How an output-rail violation reaches you; overrides `rails.output.streaming.on_violation`.
   * `'error'`: a RailViolationError; `'chunk'`: NeMo's JSON payload as the last item; `'replace'`: the refusal text.
   */
  readonly onViolation?: 'error' | 'chunk' | 'replace';
  /**
   * What an input-rail block gives: NeMo's refusal text as the whole answer, or a RailViolationError.
   * @default 'refuse'
   */
  readonly onInputViolation?: 'refuse' | 'error';
  /**
   * How many of the latest LLM calls `explain()` keeps (a long-running server should bound it).
   * @default all of them
   */
  readonly keepCalls?: number;
}

/** Options of {@link LLMRails.stream} and {@link LLMRails.streamAsync}. */
export interface StreamOptions {
  /**
   * Tokens from elsewhere (an external generator): input rails and the model are skipped, the output rails
   * still apply (NeMo's `generator`).
   */
  readonly generator?: AsyncIterable<string> | Observable<string>;
  /** Request parameters for the main model's call (temperature, max_tokens, ...; NeMo's `options.llm_params`). */
  readonly llmParams?: Readonly<Record<string, unknown>>;
  /** Also record this call's LLM calls here (the instance records them for explain() either way). */
  readonly usage?: UsageTracker;
}

/** Options of {@link LLMRails.generate}. */
export interface GenerateOptions extends StreamOptions {
  /** Receives the chunks while the answer is produced. */
  readonly streamingHandler?: StreamingHandler;
  /** Ask for a GenerationResponse with a log (NeMo's `options`). */
  readonly options?: { readonly log?: GenerationLogOptions };
  /** Aborts the generation: the returned promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

type Side = 'input' | 'output';

const STREAM_OPTION_KEYS = ['generator', 'llmParams', 'usage'] as const;

/**
 * Guardrails around an LLM, configured by a {@link RailsConfig}: input rails check the user's message, the main
 * model answers, output rails check the answer as it streams (NeMo Guardrails' `LLMRails`).
 *
 * - `stream(messages)` → `Observable<string>` (NeMo's `stream_async` as an Observable);
 * - `streamAsync(messages)` → `AsyncIterable<string>` over the same pipeline;
 * - `generate(messages, { streamingHandler, options })` → the whole message (or a GenerationResponse with a log).
 *
 * An input-rail block answers NeMo's refusal ("I'm sorry, I can't respond to that.") without calling the main
 * model. An output-rail violation errors with RailViolationError (or, per `on_violation`, gives NeMo's JSON item
 * or the refusal). Unsubscribing from `stream()` or leaving a `for await` loop aborts the model request and every
 * rail check in flight. Every LLM call (the main model, LLM-judged rails) is recorded for `explain()`.
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
  private readonly usage: UsageTracker;
  private readonly mainModel: ChatModel | undefined;
  private readonly judges: Readonly<Record<string, ChatModel | undefined>>;
  private readonly prompts: Readonly<Record<string, PromptTemplate>>;
  private readonly customRails: Readonly<Record<string, OutputRail>>;
  private readonly onViolation: 'error' | 'chunk' | 'replace';
  private readonly onInputViolation: 'refuse' | 'error';
  private readonly railMakers: Readonly<Record<Side, readonly ((usage: UsageTracker) => OutputRail)[]>>;

  /**
   * @param config The configuration.
   * @param options Models, SDK clients, custom rails, a usage tracker, violation handling.
   * @throws ConfigError for an unknown flow, a prompt that is not a valid template, a missing API key.
   */
  constructor(
    readonly config: RailsConfig,
    options: LLMRailsOptions = {},
  ) {
    if (!(config instanceof RailsConfig)) {
      throw new InvalidOptionError('config', config, `LLMRails: config must be a RailsConfig (RailsConfig.fromContent or fromPath), got ${describeValue(config)}`);
    }
    assertKnownKeys('LLMRails', options, ['models', 'clients', 'rails', 'usage', 'onViolation', 'onInputViolation', 'keepCalls']);
    const { models = {}, clients = {}, rails = {}, usage, onViolation, onInputViolation = 'refuse', keepCalls } = options;
    this.usage = new UsageTracker({ keep: keepCalls });
    if (onViolation !== undefined) assertOneOf('LLMRails', 'onViolation', onViolation, ['error', 'chunk', 'replace'] as const);
    assertOneOf('LLMRails', 'onInputViolation', onInputViolation, ['refuse', 'error'] as const);
    if (usage !== undefined && !(usage instanceof UsageTracker)) {
      throw new InvalidOptionError('usage', usage, `LLMRails: usage must be a UsageTracker, got ${describeValue(usage)}`);
    }
    if (usage) this.usage.calls$.subscribe((call) => usage.next(call));
    this.onViolation = onViolation ?? config.data.rails.output.streaming.on_violation;
    this.onInputViolation = onInputViolation;

    const custom: Record<string, OutputRail> = { ...config.customRails };
    for (const [name, rail] of Object.entries(rails)) {
      custom[name] = railNamed(name, rail);
    }
    this.customRails = custom;

    const modelOf = (type: string): ChatModel | undefined => {
      if (models[type]) return models[type];
      const index = config.models.findIndex((model) => model.type === type);
      return index === -1 ? undefined : engineModel(config, index, clients);
    };
    this.mainModel = modelOf('main');
    const unknown: ReturnType<RailsConfig['issue']>[] = [];
    const judges: Record<string, ChatModel | undefined> = {};
    const prompts: Record<string, PromptTemplate> = {};
    for (const side of ['input', 'output'] as const) {
      config.data.rails[side].flows.forEach((flow, index) => {
        if (custom[flow]) return;
        const task = flow === 'self check input' ? 'self_check_input' : flow === 'self check output' ? 'self_check_output' : undefined;
        if (task) {
          judges[task] ??= modelOf(task) ?? this.mainModel;
          if (!judges[task]) {
            unknown.push(config.issue(['rails', side, 'flows', index], `flow '${flow}' needs a model: add a models entry of type main or ${task}`));
          }
          prompts[task] ??= this.compile(config.prompt(task, config.model(task) ?? config.model('main'))!);
        } else if (flow !== 'keyword check' && flow !== 'regex check') {
          unknown.push(
            config.issue(
              ['rails', side, 'flows', index],
              `unknown flow '${flow}': rxguardrails knows 'self check input', 'self check output', 'keyword check' and 'regex check'; ` +
                'export a rail of that name from rails.js, or pass it in LLMRails({ rails })',
            ),
          );
        }
      });
    }
    if (unknown.length > 0) throw new ConfigError(unknown);
    this.judges = judges;
    this.prompts = prompts;
    this.railMakers = { input: this.makers('input'), output: this.makers('output') };
  }

  /**
   * The guarded answer as a token stream: input rails, then the main model (or `generator`), then the streaming
   * output rails of the config.
   * @throws StreamingNotSupportedError at call time when the config has output flows but
   * `rails.output.streaming.enabled` is not true (NeMo's rule and message).
   */
  stream(messages: readonly ChatMessage[], options: StreamOptions = {}): Observable<string> {
    assertMessages('LLMRails.stream', 'messages', messages);
    assertKnownKeys('LLMRails.stream', options, STREAM_OPTION_KEYS);
    if (this.config.data.rails.output.flows.length > 0 && !this.config.data.rails.output.streaming.enabled) {
      throw new StreamingNotSupportedError();
    }
    const { generator, llmParams = {}, usage } = options;
    if (usage === undefined) return this.pipeline(messages, { generator, llmParams, usage: this.usage });
    return defer(() => {
      const call = this.callUsage(usage);
      return this.pipeline(messages, { generator, llmParams, usage: call.usage }).pipe(finalize(call.end));
    });
  }

  /** The guarded answer for `for await` (NeMo's `stream_async`); leaving the loop aborts everything in flight. */
  streamAsync(messages: readonly ChatMessage[], options: StreamOptions = {}): AsyncIterable<string> {
    return toAsyncIterable(this.stream(messages, options));
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
    assertKnownKeys('LLMRails.generate', options, [...STREAM_OPTION_KEYS, 'streamingHandler', 'options', 'signal']);
    const { streamingHandler, options: generationOptions, signal, generator, llmParams = {} } = options;
    const started = now();
    const call = this.callUsage(options.usage);
    const { usage } = call;
    const recorder = generationOptions?.log ? new RailRecorder() : undefined;
    const answer$ = this.pipeline(messages, { generator, llmParams, usage, recorder });

    return new Promise<AssistantMessage | GenerationResponse>((resolve, reject) => {
      const chunks: string[] = [];
      const fail = (error: unknown) => {
        call.end();
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
        error: (error: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          fail(error);
        },
        complete: () => {
          signal?.removeEventListener('abort', onAbort);
          call.end();
          streamingHandler?.finish();
          const message: AssistantMessage = { role: 'assistant', content: chunks.join('') };
          if (!generationOptions) {
            resolve(message);
            return;
          }
          resolve({ response: [message], ...(generationOptions.log ? { log: this.log(generationOptions.log, usage.snapshot().calls, recorder!, now() - started) } : {}) });
        },
      });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** NeMo's explain info: every LLM call made through this instance so far. */
  explain(): ExplainInfo {
    return this.usage.explain();
  }

  /** A tracker for one call's LLM calls, passing each on to this instance (and to `also`); `end` stops that. */
  private callUsage(also?: UsageTracker): { usage: UsageTracker; end: () => void } {
    const usage = new UsageTracker();
    const forwarding = usage.calls$.subscribe((call) => {
      this.usage.next(call);
      also?.next(call);
    });
    return { usage, end: () => forwarding.unsubscribe() };
  }

  private pipeline(
    messages: readonly ChatMessage[],
    call: {
      readonly generator: AsyncIterable<string> | Observable<string> | undefined;
      readonly llmParams: Readonly<Record<string, unknown>>;
      readonly usage: UsageTracker;
      readonly recorder?: RailRecorder;
    },
  ): Observable<string> {
    const { generator, llmParams, usage, recorder } = call;
    const outputRails = this.outputRails(messages, usage, recorder);
    if (generator !== undefined) {
      const tokens$ = isObservable(generator) ? generator : fromTokens(generator);
      return tokens$.pipe(outputRails);
    }
    const model = this.mainModel;
    if (!model) {
      return throwError(
        () => new ConfigError([this.config.issue(['models'], 'no model of type main: add one to the config, or pass LLMRails({ models: { main } }) or a generator')]),
      );
    }
    const answer$ = defer(() => {
      const tokens$ = model.stream(messages, { ...llmParams, usage, task: 'general' });
      // Without top-level `streaming`, the answer comes as one chunk, as in NeMo.
      return (this.config.streaming ? tokens$ : tokens$.pipe(toArray(), map((tokens) => tokens.join('')))).pipe(outputRails);
    });
    const inputRails = this.rails('input', usage, recorder);
    const text = [...messages].reverse().find((message) => message.role === 'user')?.content;
    if (inputRails.length === 0 || text === undefined) return answer$;

    const batch: ChunkBatch = { index: 0, text, chunks: [text], final: true, overlap: 0 };
    return of(batch).pipe(
      checkRail(inputRails, { parallel: this.config.data.rails.input.parallel, messages }),
      concatMap((checked) => {
        if (!checked.blocked) return answer$;
        if (this.onInputViolation === 'refuse') return of(DEFAULT_REPLACEMENT);
        const { blocked } = checked;
        return throwError(() => new RailViolationError({ rail: blocked.rail, batchIndex: 0, verdict: blocked }));
      }),
    );
  }

  /** Output rails by windows when streaming is enabled, else once on the whole answer (generate only). */
  private outputRails(messages: readonly ChatMessage[], usage: UsageTracker, recorder: RailRecorder | undefined): OperatorFunction<string, string> {
    const rails = this.rails('output', usage, recorder);
    if (rails.length === 0) return (tokens$) => tokens$;
    const { parallel, streaming } = this.config.data.rails.output;
    const mode = this.onViolation;
    if (streaming.enabled) {
      return guard(rails, {
        chunkSize: streaming.chunk_size,
        contextSize: streaming.context_size,
        streamFirst: streaming.stream_first,
        parallel,
        messages,
        mode,
      });
    }
    const check = checkWith(resolveCheckSettings('LLMRails', rails, { parallel, messages }));
    const release = releaseOrBlock(resolveViolationSettings('LLMRails', { mode }));
    return (tokens$) =>
      tokens$.pipe(
        toArray(),
        concatMap((tokens) => (tokens.length === 0 ? EMPTY : of<ChunkBatch>({ index: 0, text: tokens.join(''), chunks: tokens, final: true, overlap: 0 }))),
        check,
        release,
      );
  }

  /** The rails of one side, for one call: judges record into this call's usage. */
  private rails(side: Side, usage: UsageTracker, recorder: RailRecorder | undefined): OutputRail[] {
    const rails = this.railMakers[side].map((make) => make(usage));
    return recorder ? rails.map((rail) => recorder.wrap(rail, side)) : rails;
  }

  /**
   * How each flow of a side gets its rail for a call: keyword, regex and custom rails are built once (they hold no
   * per-call state), LLM-judged ones per call (they record into the call's usage).
   */
  private makers(side: Side): ((usage: UsageTracker) => OutputRail)[] {
    const { data } = this.config;
    return data.rails[side].flows.map((flow): ((usage: UsageTracker) => OutputRail) => {
      const custom = this.customRails[flow];
      if (custom) {
        const rail = { name: flow, check: custom.check };
        return () => rail;
      }
      switch (flow) {
        case 'self check input':
        case 'self check output': {
          const task = flow === 'self check input' ? 'self_check_input' : 'self_check_output';
          const make = flow === 'self check input' ? selfCheckInput : selfCheckOutput;
          const prompt = this.config.prompt(task, this.config.model(task) ?? this.config.model('main'));
          const settings = { name: flow, model: this.judges[task]!, prompt: this.prompts[task]!, temperature: data.lowest_temperature, maxTokens: prompt?.max_tokens ?? 3 };
          return (usage) => make({ ...settings, usage });
        }
        case 'keyword check': {
          const settings = data.rails.config.keyword_check!;
          const rail = keywordRail(settings.keywords, { name: flow, caseSensitive: settings.case_sensitive, wordBoundary: settings.word_boundary });
          return () => rail;
        }
        default: {
          const rail = regexRail(data.rails.config.regex_check!.patterns, { name: flow });
          return () => rail;
        }
      }
    });
  }

  /** A prompt entry as templates, checked now: a Jinja syntax error is a ConfigError at the prompt. */
  private compile(prompt: PromptConfig): PromptTemplate {
    const template: PromptTemplate =
      prompt.content ?? prompt.messages!.map((message) => ({ role: roleOf(message.role ?? message.type), content: message.content }));
    try {
      compilePrompt('LLMRails', template);
    } catch (error) {
      const index = this.config.data.prompts.indexOf(prompt);
      throw new ConfigError([this.config.issue(['prompts', index, prompt.content === undefined ? 'messages' : 'content'], (error as Error).message.replace(/^LLMRails: /, ''))], {
        cause: error,
      });
    }
    return template;
  }

  private log(options: GenerationLogOptions, recorded: readonly LlmCallInfo[], recorder: RailRecorder, totalDurationMs: number): GenerationLog {
    // In the order the calls started, as NeMo logs them (they are recorded when they end).
    const calls = [...recorded].sort((a, b) => a.startedAt - b.startedAt);
    const sum = (pick: (call: LlmCallInfo) => number | undefined) => calls.reduce((total, call) => total + (pick(call) ?? 0), 0);
    return {
      ...(options.activatedRails ? { activatedRails: recorder.activated(calls) } : {}),
      ...(options.llmCalls ? { llmCalls: [...calls] } : {}),
      stats: {
        inputRailsDurationMs: recorder.durationMs('input'),
        generationDurationMs: sum((call) => (call.task === 'general' ? call.durationMs : 0)),
        outputRailsDurationMs: recorder.durationMs('output'),
        totalDurationMs,
        llmCallsDurationMs: sum((call) => call.durationMs),
        llmCallsCount: calls.length,
        llmCallsTotalPromptTokens: sum((call) => call.promptTokens),
        llmCallsTotalCompletionTokens: sum((call) => call.completionTokens),
        llmCallsTotalTokens: sum((call) => call.totalTokens),
      },
    };
  }
}

function roleOf(type: string | undefined): string {
  if (type === 'bot') return 'assistant';
  return type ?? 'user';
}
