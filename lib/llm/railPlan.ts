// Internal: the config interpreted once per LLMRails. The models, the rails of each side (custom or built from the
// flow registry, prompts compiled), and the validated operator settings are made here, at construction; a call only
// adds its own messages, usage sink and log recorder.
import { concatMap, type MonoTypeOperatorFunction, type Observable, of, throwError } from 'rxjs';
import { blockedAnswer } from '../core/refusals.js';
import type { ChatMessage, ChatModel, OutputRail, RailVerdict, UsageSink } from '../core/types.js';
import { builtInFlow, judgeModelType, judgeTask, listBuiltInFlows } from '../config/flows.js';
import type { RailsConfig } from '../config/RailsConfig.js';
import type { PromptConfig } from '../config/railsConfigSchema.js';
import { ConfigError, type ConfigIssue } from '../errors/ConfigError.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { RailViolationError } from '../errors/RailViolationError.js';
import { resolveViolationSettings } from '../operators/blockOnViolation.js';
import { resolveCheckSettings } from '../operators/checkRail.js';
import { resolveGuardSettings } from '../operators/guard.js';
import { checkWith } from '../operators/internal/checkWith.js';
import { guardWith } from '../operators/internal/guardWith.js';
import type { CheckSettings, GuardSettings, ViolationSettings } from '../operators/internal/settings.js';
import { wholeAnswer } from '../operators/internal/wholeAnswer.js';
import { railNamed } from '../rails/defineRail.js';
import type { PromptTemplate } from '../rails/selfCheck.js';
import { maskedTextOf } from '../rails/sensitiveData.js';
import { type EngineClients, engineModel } from './engineModel.js';
import type { RailRecorder } from './RailRecorder.js';

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
}

/** One call's own part: its conversation, where its LLM calls are recorded, and the log recorder if asked for. */
export interface CallContext {
  readonly messages: readonly ChatMessage[];
  readonly userMessage: string | undefined;
  readonly usage: UsageSink;
  readonly recorder: RailRecorder | undefined;
  /** The call's own choice for an input-rail block, over the instance's. */
  readonly onInputViolation: 'refuse' | 'error' | undefined;
}

/** @throws ConfigError for an unknown flow, a judge without a model, a prompt that is not a template, a missing API key. */
export function buildRailPlan(config: RailsConfig, options: PlanOptions): RailPlan {
  const { data } = config;
  const custom: Record<string, OutputRail> = { ...config.customRails };
  for (const [name, rail] of Object.entries(options.rails)) custom[name] = railNamed(name, rail);
  const used = new Set<ChatModel>();
  const modelOf = (type: string): ChatModel | undefined => {
    const index = config.models.findIndex((model) => model.type === type);
    const model = options.models[type] ?? (index === -1 ? undefined : engineModel(config, index, options.clients));
    if (model) used.add(model);
    return model;
  };
  const main = modelOf('main');
  const problems: ConfigIssue[] = [];
  const rewriting = new Set<OutputRail>();

  const railOf = (side: Side, flow: string, index: number): OutputRail | undefined => {
    const customRail = custom[flow];
    if (customRail) return { name: flow, check: customRail.check };
    const definition = builtInFlow(flow);
    const place = ['rails', side, 'flows', index];
    if (!definition) {
      problems.push(
        config.issue(place, `unknown flow '${flow}': rxguardrails knows ${listBuiltInFlows()}; export a rail of that name from rails.js, or pass it in LLMRails({ rails })`),
      );
      return undefined;
    }
    // Rule settings were checked when the config was loaded.
    if (definition.kind !== 'judge') {
      const rail = definition.build(data.rails.config, flow);
      if (rail && definition.rewritesInput) rewriting.add(rail);
      return rail;
    }
    const task = judgeTask(flow, definition);
    const type = judgeModelType(flow, definition);
    const model = modelOf(type) ?? main;
    if (!model) {
      problems.push(config.issue(place, `flow '${flow}' needs a model: add a models entry of type main or ${type}`));
      return undefined;
    }
    // The prompt's presence was checked when the config was loaded; its templates are compiled here, once.
    const prompt = config.prompt(task, config.model(type) ?? config.model('main'))!;
    try {
      // The side's check_timeout_ms bounds the judge, as every rail of the side: the rail needs no bound of its own.
      const timeoutMs = Number.POSITIVE_INFINITY;
      return definition.rail({ name: flow, task, model, prompt: templateOf(prompt), temperature: data.lowest_temperature, maxTokens: prompt.max_tokens ?? 3, timeoutMs });
    } catch (error) {
      if (!InvalidOptionError.isInstance(error) || !error.option.startsWith('prompt')) throw error;
      const key = prompt.content === undefined ? 'messages' : 'content';
      problems.push(config.issue(['prompts', data.prompts.indexOf(prompt), key], error.message.replace(/^\w+: /, '')));
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
                streamFirst: output.streaming.stream_first,
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
  };
}

/** The output rails of one call, as an operator on the answer's tokens. */
export function outputRails(plan: RailPlan, call: CallContext): MonoTypeOperatorFunction<string> {
  const { output } = plan;
  if (!output) return (tokens$) => tokens$;
  if (output.streaming) return guardWith({ ...output.guard, check: forCall(output.guard.check, 'output', call) });
  return wholeAnswer(forCall(output.check, 'output', call), output.violation);
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
      // A rail that failed is not a policy decision: NeMo answers its internal-error message, not the refusal.
      if ((call.onInputViolation ?? plan.onInputViolation) === 'refuse') return of(blockedAnswer(blocked));
      return throwError(() => new RailViolationError({ rail: blocked.rail, batchIndex: 0, verdict: blocked }));
    }),
  );
}

/** The conversation with its last user message's text replaced. */
function withLastUserMessage(messages: readonly ChatMessage[], content: string): readonly ChatMessage[] {
  const last = messages.map((message) => message.role).lastIndexOf('user');
  return messages.map((message, index) => (index === last ? { ...message, content } : message));
}

/** A side's check settings with the call's own part; rails wrapped for the log when it records. */
function forCall(check: CheckSettings, side: Side, call: CallContext): CheckSettings {
  const { recorder } = call;
  return {
    ...check,
    rails: recorder ? check.rails.map((rail) => recorder.wrap(rail, side)) : check.rails,
    messages: call.messages,
    userMessage: call.userMessage,
    usage: call.usage,
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
