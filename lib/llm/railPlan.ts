// Internal: the config interpreted once per LLMRails. The models, the rails of each side (custom or built from the
// flow registry, prompts compiled), and the validated operator settings are made here, at construction; a call only
// adds its own messages, usage sink and log recorder.
import { catchError, concatMap, type MonoTypeOperatorFunction, type Observable, of, throwError } from 'rxjs';
import { blockedAnswer } from '../core/refusals.js';
import type { ChatMessage, ChatModel, ChunkBatch, OutputRail, RailCheckInfo, RailVerdict, UsageSink } from '../core/types.js';
import { builtInFlow, type JudgeFlow, judgeModelType, judgeTask, listBuiltInFlows, parseFlow, rewriteProblem, ruleSettingIssue } from '../config/flows.js';
import type { RailsConfig } from '../config/RailsConfig.js';
import type { PromptConfig } from '../config/railsConfigSchema.js';
import { ConfigError, type ConfigIssue } from '../errors/ConfigError.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { epochMilliseconds, now } from '../internal/clock.js';
import { isLazyRail, type LazyRail } from '../internal/lazyRail.js';
import { type RailException, RailViolationError } from '../errors/RailViolationError.js';
import { resolveViolationSettings } from '../operators/blockOnViolation.js';
import { resolveCheckSettings } from '../operators/checkRail.js';
import { resolveGuardSettings } from '../operators/guard.js';
import { checkWith } from '../operators/internal/checkWith.js';
import { guardWith } from '../operators/internal/guardWith.js';
import type { CheckSettings, GuardSettings, ViolationSettings } from '../operators/internal/settings.js';
import { wholeAnswer } from '../operators/internal/wholeAnswer.js';
import { railNamed } from '../rails/defineRail.js';
import type { PromptTemplate } from '../rails/compilePrompt.js';
import { maskedTextOf } from '../rails/maskedText.js';
import { multilingualRefusal } from '../rails/multilingualRefusal.js';
import { type EngineClients, engineModel } from './engineModel.js';

export type Side = 'input' | 'output';

/** What the plan is built from, besides the config: LLMRails' options. */
export interface PlanOptions {
  readonly models: Readonly<Record<string, ChatModel>>;
  readonly clients: EngineClients;
  readonly rails: Readonly<Record<string, OutputRail | OutputRail['check']>>;
  readonly onViolation: 'error' | 'chunk' | 'replace' | undefined;
  readonly onInputViolation: 'refuse' | 'error';
}

/** How the output rails run: on windows as the answer streams, or once on the whole answer. */
type OutputPlan = { readonly streaming: true; readonly guard: GuardSettings } | { readonly streaming: false; readonly check: CheckSettings; readonly violation: ViolationSettings };

export interface RailPlan {
  /** The main model, if the config or the options have one. */
  readonly main: ChatModel | undefined;
  /** Every model the plan calls: the main one and the rails' judges. */
  readonly models: readonly ChatModel[];
  /** Input rails, checked once on the last user message; undefined without input flows. */
  readonly input: CheckSettings | undefined;
  /**
   * Input rails that rewrite the user's message (`mask sensitive data on input`), run before the others: the other
   * input rails, the model and the output rails see the rewritten message. Undefined without such flows.
   */
  readonly inputRewrite: CheckSettings | undefined;
  /** Output rails; undefined without output flows. */
  readonly output: OutputPlan | undefined;
  readonly onInputViolation: 'refuse' | 'error';
  /**
   * Loads what the plan's rails were built without (the regex and Jinja engines, imported when first needed) and
   * makes those rails; rejects with a ConfigError for what making them found (a prompt that is not a template).
   */
  readonly ready: () => Promise<void>;
  /** Whether every rail is made (nothing for `ready` to do). */
  readonly isReady: () => boolean;
  /** How an input block by each judged flow is answered, by rail name (the flow as written). */
  readonly inputAnswers: ReadonlyMap<string, InputAnswer>;
  /** With `enable_rails_exceptions`: the exception of each judged output flow, for blocks of a whole answer. */
  readonly outputExceptions: ReadonlyMap<string, RailException> | undefined;
}

/** One call's own part: its conversation, where its LLM calls and (when someone listens) its rail checks are told. */
export interface CallContext {
  readonly messages: readonly ChatMessage[];
  readonly userMessage: string | undefined;
  readonly usage: UsageSink;
  /** Told of each rail check: the generation log's recorder, telemetry, or both; undefined when nobody listens. */
  readonly railChecks: ((check: RailCheckInfo) => void) | undefined;
  /** The call's own choice for an input-rail block, over the instance's. */
  readonly onInputViolation: 'refuse' | 'error' | undefined;
}

/** @throws ConfigError for an unknown flow, a judge without a model, a prompt that is not a template, a missing API key. */
export function buildRailPlan(config: RailsConfig, options: PlanOptions): RailPlan {
  const { data } = config;
  const custom: Record<string, OutputRail> = { ...config.customRails };
  for (const [name, rail] of Object.entries(options.rails)) custom[name] = railNamed(name, rail);
  const used = new Set<ChatModel>();
  // One model per models entry, whichever flows ask it: one client, and a scripted judge's answers in one sequence.
  const made = new Map<string, ChatModel | undefined>();
  const modelOf = (type: string): ChatModel | undefined => {
    if (!made.has(type)) {
      const index = config.models.findIndex((model) => model.type === type);
      made.set(type, options.models[type] ?? (index === -1 ? undefined : engineModel(config, index, options.clients)));
    }
    const model = made.get(type);
    if (model) used.add(model);
    return model;
  };
  const main = modelOf('main');
  const problems: ConfigIssue[] = [];
  // Rails whose module was not loaded yet, each with how what making it throws becomes a config issue.
  const deferred: { readonly rail: LazyRail; readonly issue: (error: unknown) => ConfigIssue }[] = [];
  const defer = (rail: OutputRail, issue: (error: unknown) => ConfigIssue): OutputRail => {
    if (isLazyRail(rail)) deferred.push({ rail, issue });
    return rail;
  };
  const answers = new Map<string, InputAnswer>();
  const rewriting = new Set<OutputRail>();

  const railOf = (side: Side, flow: string, index: number): OutputRail | undefined => {
    const customRail = custom[flow];
    if (customRail) {
      const rewrite = customRail.rewrites === true ? rewriteProblem(data, side, `rail '${flow}'`) : undefined;
      if (rewrite) {
        problems.push(config.issue(['rails', 'output', 'streaming', 'stream_first'], rewrite));
        return undefined;
      }
      return { name: flow, check: customRail.check, ...(customRail.rewrites === undefined ? {} : { rewrites: customRail.rewrites }) };
    }
    const definition = builtInFlow(flow);
    const place = ['rails', side, 'flows', index];
    if (!definition) {
      problems.push(
        config.issue(place, `unknown flow '${flow}': rxguardrails knows ${listBuiltInFlows()}; export a rail of that name from rails.js, or pass it in LLMRails({ rails })`),
      );
      return undefined;
    }
    // Rule settings were checked when the config was loaded, all but what needs a module not loaded yet (the regex
    // engine's own limits).
    if (definition.kind !== 'judge') {
      const unmet = definition.unmet?.(data.rails.config);
      if (unmet) {
        // The machine's problem, not the config's: a server can still serve its other configs.
        problems.push({ ...config.issue(unmet.key, unmet.message), environment: unmet.variable });
        return undefined;
      }
      const rail = definition.build(data.rails.config, flow);
      if (rail && definition.rewritesInput) rewriting.add(rail);
      if (side === 'input' && data.enable_rails_exceptions && definition.exception) answers.set(flow, { exception: definition.exception });
      return rail && defer(rail, (error) => ruleSettingIssue((path, message) => config.issue(path, message), definition, error));
    }
    const task = judgeTask(flow, definition);
    const type = judgeModelType(flow, definition);
    // NeMo's library rails ask the model of their type, never the main one.
    const model = modelOf(type) ?? (definition.ownJudge ? undefined : main);
    if (!model) {
      const types = [...new Set([...config.models.map((entry) => entry.type), ...Object.keys(options.models)])].sort();
      problems.push(
        config.issue(
          place,
          definition.ownJudge
            ? `${side === 'input' ? 'Input' : 'Output'} flow '${parseFlow(flow).name}' references model type '${type}' that is not defined in the configuration. Detected model types: ${types.map((entry) => `'${entry}'`).join(', ') || 'none'}.`
            : `flow '${flow}' needs a model: add a models entry of type main or ${type}`,
        ),
      );
      return undefined;
    }
    // The prompt's presence was checked when the config was loaded; its templates are compiled here, once.
    const prompt = config.prompt(task, config.model(type) ?? config.model('main'))!;
    const promptIssue = (error: unknown): ConfigIssue => {
      if (!InvalidOptionError.isInstance(error) || !error.option.startsWith('prompt')) throw error;
      const key = prompt.content === undefined ? 'messages' : 'content';
      return config.issue(['prompts', data.prompts.indexOf(prompt), key], error.message.replace(/^\w+: /, ''));
    };
    if (side === 'input') answers.set(flow, inputAnswer(config, flow, definition));
    try {
      // The side's check_timeout_ms bounds the judge, as every rail of the side: the rail needs no bound of its own.
      const timeoutMs = Number.POSITIVE_INFINITY;
      const rail = definition.rail({ name: flow, task, model, prompt: templateOf(prompt), promptConfig: prompt, config: data, timeoutMs });
      return defer(rail, promptIssue);
    } catch (error) {
      problems.push(promptIssue(error));
      return undefined;
    }
  };
  const railsOf = (side: Side) => data.rails[side].flows.map((flow, index) => railOf(side, flow, index)).filter((rail) => rail !== undefined);
  const inputFlowRails = railsOf('input');
  const inputRails = inputFlowRails.filter((rail) => !rewriting.has(rail));
  const inputRewrites = inputFlowRails.filter((rail) => rewriting.has(rail));
  const outputRails = railsOf('output');
  if (problems.length > 0) throw new ConfigError(problems);

  const { input, output } = data.rails;
  const mode = options.onViolation ?? output.streaming.on_violation;
  return {
    main,
    models: [...used],
    input: inputRails.length === 0 ? undefined : resolveCheckSettings('LLMRails', inputRails, { parallel: input.parallel, timeout: input.check_timeout_ms }),
    inputRewrite: inputRewrites.length === 0 ? undefined : resolveCheckSettings('LLMRails', inputRewrites, { timeout: input.check_timeout_ms }),
    output:
      outputRails.length === 0
        ? undefined
        : output.streaming.enabled
          ? {
              streaming: true,
              guard: resolveGuardSettings('LLMRails', outputRails, {
                chunkSize: output.streaming.chunk_size,
                contextSize: output.streaming.context_size,
                ...(output.streaming.first_chunk_size === undefined ? {} : { firstChunkSize: output.streaming.first_chunk_size }),
                streamFirst: output.streaming.stream_first,
                concurrency: output.streaming.concurrency,
                parallel: output.parallel,
                timeout: output.check_timeout_ms,
                mode,
              }),
            }
          : {
              streaming: false,
              check: resolveCheckSettings('LLMRails', outputRails, { parallel: output.parallel, timeout: output.check_timeout_ms }),
              violation: resolveViolationSettings('LLMRails', { mode }),
            },
    onInputViolation: options.onInputViolation,
    // Each deferred rail loads its own module: a config without regex check never loads the regex engine.
    isReady: () => deferred.every(({ rail }) => rail.isMade()),
    ready: async () => {
      const made = await Promise.allSettled(deferred.map(({ rail }) => rail.ready()));
      const found = made.flatMap((outcome, index) => (outcome.status === 'rejected' ? [deferred[index]!.issue(outcome.reason)] : []));
      if (found.length > 0) throw new ConfigError(found);
    },
    inputAnswers: answers,
    outputExceptions: data.enable_rails_exceptions ? outputExceptions(data.rails.output.flows) : undefined,
  };
}

/** How a blocked input is answered for one flow: its refusal (in the user's language, for some), or its exception. */
export interface InputAnswer {
  readonly refusal?: (userMessage: string) => string;
  readonly exception?: RailException;
}

/**
 * NeMo's answer to a block by `flow` on the input side: with `enable_rails_exceptions`, the flow's exception; for the
 * content-safety flows with `rails.config.content_safety.multilingual.enabled`, the refusal in the user's language.
 */
function inputAnswer(config: RailsConfig, flow: string, definition: JudgeFlow): InputAnswer {
  const { data } = config;
  if (data.enable_rails_exceptions) return { exception: railException(flow, definition, 'input') };
  const multilingual = data.rails.config.content_safety?.multilingual;
  if (definition.multilingual && multilingual?.enabled) return { refusal: (userMessage) => multilingualRefusal(userMessage, multilingual.refusal_messages) };
  return {};
}

/** NeMo's exception for a block by `flow`: `Input not allowed. The input was blocked by the '<flow>' flow.` */
function railException(flow: string, definition: JudgeFlow, side: Side): RailException {
  const { name, parameters } = parseFlow(flow);
  // NeMo's flows quote the model type inside the quoted flow: 'content safety check input $model='content_safety''.
  const shown = definition.modelParameter && parameters.model !== undefined ? `${name} $model='${parameters.model}'` : name;
  const Side = side === 'input' ? 'Input' : 'Output';
  return { type: definition.exception, message: `${Side} not allowed. The ${side} was blocked by the '${shown}' flow.` };
}

/** The exceptions of the output flows that raise one, by rail name, for blocks of a whole answer. */
function outputExceptions(flows: readonly string[]): ReadonlyMap<string, RailException> {
  const exceptions = new Map<string, RailException>();
  for (const flow of flows) {
    const definition = builtInFlow(flow);
    if (definition?.kind === 'judge') exceptions.set(flow, railException(flow, definition, 'output'));
    else if (definition?.exception) exceptions.set(flow, definition.exception);
  }
  return exceptions;
}

/** The output rails of one call, as an operator on the answer's tokens. */
export function outputRails(plan: RailPlan, call: CallContext): MonoTypeOperatorFunction<string> {
  const { output } = plan;
  if (!output) return (tokens$) => tokens$;
  if (output.streaming) return guardWith({ ...output.guard, check: forCall(output.guard.check, 'output', call, output.guard.streamFirst) });
  const checked = wholeAnswer(forCall(output.check, 'output', call), output.violation);
  const exceptions = plan.outputExceptions;
  if (!exceptions) return checked;
  // NeMo's exception for a blocked whole answer (streaming output rails send the payload regardless, as NeMo's do).
  return (answer$) =>
    answer$.pipe(
      checked,
      catchError((error: unknown) => {
        const exception = RailViolationError.isInstance(error) && error.info.verdict.kind !== 'internal_error' ? exceptions.get(error.info.rail) : undefined;
        return throwError(() => (exception ? new RailViolationError({ ...(error as RailViolationError).info, exception }) : error));
      }),
    );
}

/**
 * The answer behind the input rails of one call: `answer(call)` when they pass (or there are none, or no user
 * message), else NeMo's refusal or a RailViolationError, per `onInputViolation`; the main model is then never called.
 * Rewriting input rails (masking) run first; `answer` then gets the call with the rewritten user message.
 */
export function behindInputRails(plan: RailPlan, call: CallContext, answer: (call: CallContext) => Observable<string>): Observable<string> {
  const { input, inputRewrite } = plan;
  const text = call.userMessage;
  if (text === undefined) return answer(call);
  const checked = (current: CallContext): Observable<string> =>
    input ? checkInput(plan, input, current, current.userMessage ?? text, () => answer(current)) : answer(current);
  if (!inputRewrite) return checked(call);
  return checkInput(plan, inputRewrite, call, text, (verdicts) => {
    const rewritten = verdicts.reduce((current, verdict) => maskedTextOf(verdict) ?? current, text);
    return checked(rewritten === text ? call : { ...call, userMessage: rewritten, messages: withLastUserMessage(call.messages, rewritten) });
  });
}

/** One input check of `text`: `next(verdicts)` when it passes, else the refusal or a RailViolationError. */
function checkInput(
  plan: RailPlan,
  settings: CheckSettings,
  call: CallContext,
  text: string,
  next: (verdicts: readonly RailVerdict[]) => Observable<string>,
): Observable<string> {
  return of({ index: 0, text, chunks: [text], final: true, overlap: 0 }).pipe(
    checkWith(forCall(settings, 'input', call)),
    concatMap((checked) => {
      if (!checked.blocked) return next(checked.verdicts);
      const { blocked } = checked;
      const failed = blocked.kind === 'internal_error';
      const { refusal, exception } = (!failed && plan.inputAnswers.get(blocked.rail)) || {};
      // With enable_rails_exceptions a block is NeMo's exception, which no refusal text stands for.
      if (exception) return throwError(() => new RailViolationError({ rail: blocked.rail, batchIndex: 0, verdict: blocked, exception }));
      // A rail that failed is not a policy decision: NeMo answers its internal-error message, not the refusal.
      if ((call.onInputViolation ?? plan.onInputViolation) === 'refuse') return of(refusal ? refusal(text) : blockedAnswer(blocked));
      return throwError(() => new RailViolationError({ rail: blocked.rail, batchIndex: 0, verdict: blocked }));
    }),
  );
}

/** The conversation with its last user message's text replaced. */
function withLastUserMessage(messages: readonly ChatMessage[], content: string): readonly ChatMessage[] {
  const last = messages.map((message) => message.role).lastIndexOf('user');
  return messages.map((message, index) => (index === last ? { ...message, content } : message));
}

/**
 * A side's check settings with the call's own part; its verdicts told as rail checks when someone listens.
 * `releasedFirst`: the windows' items go out before they are checked (guard's streamFirst).
 */
function forCall(check: CheckSettings, side: Side, call: CallContext, releasedFirst = false): CheckSettings {
  const { railChecks } = call;
  return {
    ...check,
    messages: call.messages,
    userMessage: call.userMessage,
    usage: call.usage,
    ...(railChecks ? { onCheck: railCheckReporter(railChecks, side, releasedFirst) } : {}),
  };
}

/** Windows whose end is remembered for rails still to be called on them: more than any `concurrency` checks at once. */
const REMEMBERED_WINDOWS = 64;

/**
 * Tells each verdict of one side as a rail check, timed from the rail's call to its answer. With `releasedFirst`, it
 * also tells where the window ends in the answer: its items went out before the check, so that much had been released
 * when the window was checked. A window comes to its first rail in order, so the end is summed then, once per window.
 */
function railCheckReporter(railChecks: (check: RailCheckInfo) => void, side: Side, releasedFirst: boolean): NonNullable<CheckSettings['onCheck']> {
  let answered = 0;
  let lastIndex = -1;
  const ends = new Map<number, number>();
  const endOf = (batch: ChunkBatch): number => {
    if (batch.index > lastIndex) {
      lastIndex = batch.index;
      for (const chunk of batch.chunks) answered += chunk.length;
      ends.set(batch.index, answered);
      ends.delete(batch.index - REMEMBERED_WINDOWS);
    }
    return ends.get(batch.index) ?? answered;
  };
  return (batch: ChunkBatch) => {
    const started = now();
    const released = releasedFirst ? { releasedBeforeCheck: endOf(batch) } : {};
    return (verdict: RailVerdict) => {
      const finished = now();
      railChecks({
        rail: verdict.rail,
        side,
        windowIndex: batch.index,
        verdict,
        durationMs: finished - started,
        startedAt: epochMilliseconds(started),
        finishedAt: epochMilliseconds(finished),
        ...released,
      });
    };
  };
}

/** A prompt entry as the rails take it: one template, or chat messages whose contents are templates. */
function templateOf(prompt: PromptConfig): PromptTemplate {
  return prompt.content ?? prompt.messages!.map((message) => ({ role: roleOf(message.role ?? message.type), content: message.content }));
}

function roleOf(type: string | undefined): string {
  if (type === 'bot') return 'assistant';
  return type ?? 'user';
}
