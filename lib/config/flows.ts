// The built-in flows, in one place: per NeMo flow name, what the flow is, what config it needs and how its rail is
// built. RailsConfig validation, the LLMRails rail plan and the activated-rails log all read this registry; adding a
// flow means adding one entry here and its rail module under rails/.
import type { ChatModel, OutputRail } from '../core/types.js';
import type { ConfigIssue } from '../errors/ConfigError.js';
import type { RailException } from '../errors/RailViolationError.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { LazyModule, lazyRail } from '../internal/lazyRail.js';
import { readPatterns } from '../internal/regexPatterns.js';
import type { PromptTemplate } from '../rails/compilePrompt.js';
import { keywordRail } from '../rails/keywordRail.js';
import { SAFETY_PARSER_NAMES } from '../rails/safetyParserNames.js';
import type { KeyPath } from './configSources.js';
import {
  detectionModule,
  detectSensitiveDataRail,
  injectionRail,
  jailbreakHeuristicsMissing,
  jailbreakHeuristicsRail,
  jailbreakKeyUnset,
  jailbreakModelMissing,
  jailbreakModelRail,
  maskInputRail,
  maskOutputRail,
  sensitiveDataMissing,
} from './detectionSettings.js';
import type { PromptConfig, RailsConfigData } from './railsConfigSchema.js';

/** The rule settings under `rails.config` (`keyword_check`, `regex_check`, ...). */
type RuleSettings = RailsConfigData['rails']['config'];

/**
 * A flow whose rail asks an LLM (NeMo's LLM-judged rails). Its prompt is the config's prompt of `task`; its model
 * the `models` entry of type `task`, else the main model; its LLM calls are recorded under `task`.
 */
export interface JudgeFlow {
  readonly kind: 'judge';
  /** NeMo's task name: the prompt's `task`, the judge model's `type`, the usage records' `task`. */
  readonly task: string;
  /**
   * Whether the flow takes NeMo's `$model=<type>` parameter (`content safety check output $model=content_safety`):
   * the judge is then the `models` entry of that type, and the task gains the parameter, as NeMo names it
   * (`content_safety_check_output $model=content_safety`).
   */
  readonly modelParameter?: boolean;
  /**
   * NeMo's library rails (content safety, topic safety, Llama Guard): the judge is the `models` entry of its type
   * only, never the main model; a `$model=` flow must name one; a missing prompt gets NeMo's "Missing a ..." message.
   */
  readonly ownJudge?: boolean;
  /** The `models` type of the judge when it is not the task's (Llama Guard's `llama_guard`). */
  readonly modelType?: string;
  /** NeMo's exception type for a block under `enable_rails_exceptions` (`ContentSafetyCheckInputException`). */
  readonly exception: string;
  /** The side NeMo defines the flow for (its action reads the user's message, or the bot's). */
  readonly side: 'input' | 'output';
  /** Its block is refused in the user's language when `rails.config.content_safety.multilingual.enabled`. */
  readonly multilingual?: boolean;
  /** Which `output_parser` names the flow reads its judge with, when its prompt may name one (the first: the default). */
  readonly parsers?: readonly string[];
  /** Makes the rail from the plan's model, the prompt entry and the config. */
  readonly rail: (options: JudgeRailOptions) => OutputRail;
}

/** What the rail plan gives a judged flow's rail factory. */
export interface JudgeRailOptions {
  /** The rail's name: the flow as written, `$model=` included. */
  readonly name: string;
  /** The task its calls are recorded under. */
  readonly task: string;
  readonly model: ChatModel;
  /** The prompt entry's template(s). */
  readonly prompt: PromptTemplate;
  /** The prompt entry (`max_tokens`, `stop`, `output_parser`). */
  readonly promptConfig: PromptConfig;
  readonly config: RailsConfigData;
  readonly timeoutMs: number;
}

/** The options of a self-check rail from the plan's. */
const selfCheckOptions = ({ name, task, model, prompt, promptConfig, config, timeoutMs }: JudgeRailOptions) => ({
  name,
  task,
  model,
  prompt,
  timeoutMs,
  temperature: config.lowest_temperature,
  maxTokens: promptConfig.max_tokens ?? 3,
});

/** The options of a content-safety or Llama Guard rail from the plan's. */
const safetyOptions = ({ name, task, model, prompt, promptConfig, timeoutMs }: JudgeRailOptions) => ({
  name,
  task,
  model,
  prompt,
  timeoutMs,
  ...(promptConfig.max_tokens === undefined ? {} : { maxTokens: promptConfig.max_tokens }),
  ...(promptConfig.stop === undefined ? {} : { stop: promptConfig.stop }),
});

/** A content-safety rail's options: its parser (is_content_safe when the prompt names none) and reasoning switch. */
const contentSafetyOptions = (options: JudgeRailOptions) => ({
  ...safetyOptions(options),
  outputParser: options.promptConfig.output_parser ?? 'is_content_safe',
  reasoningEnabled: options.config.rails.config.content_safety?.reasoning?.enabled ?? false,
});


/**
 * A flow whose rail follows settings under `rails.config.<settings>`: fixed rules (keywords, patterns, detectors) or
 * a service it calls (a classifier).
 */
export interface RuleFlow {
  readonly kind: 'keyword' | 'regex' | 'detector' | 'service';
  /** The key under `rails.config` holding its settings, which it needs. */
  readonly settings: keyof RuleSettings;
  /** What `rails.config.<settings>` must hold, for the message when it is missing. */
  readonly needs: string;
  /** The one side NeMo defines the flow for (jailbreak detection checks the user's message: input only). */
  readonly side?: 'input' | 'output';
  /** What else the flow needs of the settings once it is used (a service's endpoint), if anything is missing. */
  readonly missing?: (rules: RuleSettings) => string | undefined;
  /** Why a NeMo flow is known but cannot be used yet: using it is a ConfigError with this message. */
  readonly unsupported?: string;
  /** The rail rewrites the user's message (its decision carries the masked text) rather than judging it. */
  readonly rewritesInput?: boolean;
  /** NeMo's exception for a block under `enable_rails_exceptions`, when its flow raises one. */
  readonly exception?: RailException;
  /**
   * What the flow needs of the machine and does not have, when it is used (the environment variable its settings name
   * for a key, unset): the rails cannot be built here, though the config is sound.
   */
  readonly unmet?: (rules: RuleSettings) => { readonly key: KeyPath; readonly variable: string; readonly message: string } | undefined;
  /**
   * The rail rewrites the answer (its decisions carry `rewrites`): streaming output rails must then hold text back
   * (`stream_first: false`), since what was released cannot be rewritten.
   */
  readonly rewritesOutput?: boolean;
  /**
   * Makes the rail from the config's rule settings, or answers undefined when its settings are missing. It may
   * throw InvalidOptionError for settings the schema cannot judge (a pattern that does not compile).
   */
  readonly build: (rules: RuleSettings, name: string) => OutputRail | undefined;
}

export type FlowDefinition = JudgeFlow | RuleFlow;

/** A rule flow reading `rails.config.<settings>`, typed by its settings key. */
function ruleFlow<K extends keyof RuleSettings>(
  kind: RuleFlow['kind'],
  settings: K,
  needs: string,
  rail: (settings: NonNullable<RuleSettings[K]>, name: string) => OutputRail | undefined,
  more: Pick<RuleFlow, 'side' | 'missing' | 'unsupported' | 'rewritesInput' | 'rewritesOutput' | 'unmet' | 'exception'> = {},
): RuleFlow {
  // Built once per settings object and name: the config is checked at load by building its rule rails, and the rail
  // plan then takes the same rail, so a matcher over a million keywords is built once, at load. The rails hold no
  // state of their own, so one serves every LLMRails of the config.
  const built = new WeakMap<object, Map<string, OutputRail>>();
  return {
    kind,
    settings,
    needs,
    ...more,
    build: (rules, name) => {
      const configured: RuleSettings[K] | undefined = rules[settings];
      if (configured === undefined || configured === null) return undefined;
      const byName = built.get(configured) ?? new Map<string, OutputRail>();
      built.set(configured, byName);
      let made = byName.get(name);
      if (!made) {
        made = rail(configured, name);
        if (made) byName.set(name, made);
      }
      return made;
    },
  };
}

// The regex engine and the Jinja engine are imported when a flow first needs them (see internal/lazyRail.ts): a
// browser app whose config names no flow of theirs never loads them. (The detection rails' module, with the regex
// engine, is detectionSettings.ts's.)
const regexModule = new LazyModule(() => import('../rails/regexRail.js'));
const judgedModule = new LazyModule(() => import('../rails/judgedRails.js'));

/** A judged flow's rail factory, its rail made from the judged rails' module once that is loaded. */
function judged(make: (module: typeof import('../rails/judgedRails.js'), options: JudgeRailOptions) => OutputRail): JudgeFlow['rail'] {
  return (options) => lazyRail(options.name, judgedModule, (module) => make(module, options));
}

/**
 * Imports the modules of every built-in flow's rail, so that rails are made, and their settings and prompts checked
 * in full, as the config is read or the plan built (Node's config loader and LLMRails.warmUp() call it).
 */
export async function loadFlowModules(): Promise<void> {
  await Promise.all([regexModule.load(), judgedModule.load(), detectionModule.load()]);
}

const JAILBREAK_MODEL_NEEDS = 'a classifier service under rails.config.jailbreak_detection (nim_base_url, or server_endpoint)';
const JAILBREAK_HEURISTICS_NEEDS = "a perplexity service: rails.config.jailbreak_detection.server_endpoint (NeMo's jailbreak detection server, /heuristics)";
// NeMo's jailbreak flows raise one exception, whichever detector found the jailbreak; its injection flow, its own.
const JAILBREAK_EXCEPTION: RailException = {
  type: 'JailbreakDetectionRailException',
  message: "Jailbreak attempt detected. The user's prompt was identified as an attempted jailbreak. Please make sure your prompt adheres to the guidelines.",
};
const INJECTION_EXCEPTION: RailException = {
  type: 'InjectionDetectionRailException',
  message: "Output not allowed. The output was blocked by the 'injection detection' flow.",
};
const sensitiveDataNeeds = (side: 'input' | 'output') => `its entity types under rails.config.sensitive_data_detection.${side}.entities`;

export const FLOWS = {
  'self check input': {
    kind: 'judge',
    side: 'input',
    task: 'self_check_input',
    exception: 'InputRailException',
    rail: judged(({ selfCheckInput }, options) => selfCheckInput(selfCheckOptions(options))),
  },
  'self check output': {
    kind: 'judge',
    side: 'output',
    task: 'self_check_output',
    exception: 'OutputRailException',
    rail: judged(({ selfCheckOutput }, options) => selfCheckOutput(selfCheckOptions(options))),
  },
  'keyword check': ruleFlow('keyword', 'keyword_check', 'its keywords under rails.config.keyword_check.keywords', (settings, name) =>
    keywordRail(settings.keywords, { name, caseSensitive: settings.case_sensitive, wordBoundary: settings.word_boundary }),
  ),
  'regex check': ruleFlow('regex', 'regex_check', 'its patterns under rails.config.regex_check.patterns', (settings, name) => {
    // Without the engine, everything but its own limits (counts above 1000) is checked now.
    if (regexModule.value === undefined) readPatterns(settings.patterns);
    return lazyRail(name, regexModule, ({ regexRail }) => regexRail(settings.patterns, { name }));
  }),
  'content safety check input': {
    kind: 'judge', side: 'input', task: 'content_safety_check_input', modelParameter: true, ownJudge: true, multilingual: true, parsers: SAFETY_PARSER_NAMES,
    exception: 'ContentSafetyCheckInputException', rail: judged(({ contentSafetyCheckInput }, options) => contentSafetyCheckInput(contentSafetyOptions(options))),
  },
  'content safety check output': {
    kind: 'judge', side: 'output', task: 'content_safety_check_output', modelParameter: true, ownJudge: true, multilingual: true, parsers: SAFETY_PARSER_NAMES,
    exception: 'ContentSafetyCheckOutputException', rail: judged(({ contentSafetyCheckOutput }, options) => contentSafetyCheckOutput(contentSafetyOptions(options))),
  },
  'topic safety check input': {
    kind: 'judge', side: 'input', task: 'topic_safety_check_input', modelParameter: true, ownJudge: true,
    // No max_tokens, as NeMo sends none: a small one could cut `off-topic` short, and any other answer allows.
    exception: 'TopicSafetyCheckInputException', rail: judged(({ topicSafetyCheckInput }, options) => topicSafetyCheckInput({ ...safetyOptions(options), maxTokens: undefined, prompt: options.prompt as string })),
  },
  'llama guard check input': {
    kind: 'judge', side: 'input', task: 'llama_guard_check_input', ownJudge: true, modelType: 'llama_guard',
    exception: 'LlamaGuardInputRailException', rail: judged(({ llamaGuardCheckInput }, options) => llamaGuardCheckInput(safetyOptions(options))),
  },
  'llama guard check output': {
    kind: 'judge', side: 'output', task: 'llama_guard_check_output', ownJudge: true, modelType: 'llama_guard',
    exception: 'LlamaGuardOutputRailException', rail: judged(({ llamaGuardCheckOutput }, options) => llamaGuardCheckOutput(safetyOptions(options))),
  },
  // Detection rails (NeMo's jailbreak, injection and sensitive-data library rails): settings read in detectionSettings.ts.
  'jailbreak detection model': ruleFlow('service', 'jailbreak_detection', JAILBREAK_MODEL_NEEDS, jailbreakModelRail, {
    side: 'input', missing: jailbreakModelMissing, unmet: jailbreakKeyUnset, exception: JAILBREAK_EXCEPTION,
  }),
  'jailbreak detection heuristics': ruleFlow('service', 'jailbreak_detection', JAILBREAK_HEURISTICS_NEEDS, jailbreakHeuristicsRail, {
    side: 'input', missing: jailbreakHeuristicsMissing, exception: JAILBREAK_EXCEPTION,
  }),
  'injection detection': ruleFlow('detector', 'injection_detection', 'its rule sets under rails.config.injection_detection.injections (code, sqli, template, xss)', injectionRail, {
    side: 'output', exception: INJECTION_EXCEPTION,
  }),
  'detect sensitive data on input': ruleFlow('detector', 'sensitive_data_detection', sensitiveDataNeeds('input'), detectSensitiveDataRail('input'), { side: 'input', missing: sensitiveDataMissing('input') }),
  'detect sensitive data on output': ruleFlow('detector', 'sensitive_data_detection', sensitiveDataNeeds('output'), detectSensitiveDataRail('output'), { side: 'output', missing: sensitiveDataMissing('output') }),
  'mask sensitive data on input': ruleFlow('detector', 'sensitive_data_detection', sensitiveDataNeeds('input'), maskInputRail, { side: 'input', missing: sensitiveDataMissing('input'), rewritesInput: true }),
  'mask sensitive data on output': ruleFlow('detector', 'sensitive_data_detection', sensitiveDataNeeds('output'), maskOutputRail, { side: 'output', missing: sensitiveDataMissing('output'), rewritesOutput: true }),
} as const satisfies Readonly<Record<string, FlowDefinition>>;

export type BuiltInFlow = keyof typeof FLOWS;

/** The flows rxguardrails implements; `rails.js` (or the `rails` option) may add others. */
export const BUILT_IN_FLOWS = Object.keys(FLOWS) as readonly BuiltInFlow[];

/** A flow as the config names it: `name $parameter=value ...`. */
export interface FlowReference {
  /** The flow name without its parameters. */
  readonly name: string;
  /** NeMo's `$name=value` parameters (`$model=content_safety`), by name. */
  readonly parameters: Readonly<Record<string, string>>;
}

/** Splits NeMo's trailing `$name=value` parameters off a flow name. */
export function parseFlow(flow: string): FlowReference {
  const words = flow.trim().split(/\s+/);
  const parameters: Record<string, string> = {};
  while (words.length > 1) {
    const parameter = /^\$(\w+)=(\S+)$/.exec(words.at(-1)!);
    if (!parameter) break;
    parameters[parameter[1]!] ??= parameter[2]!;
    words.pop();
  }
  return { name: words.join(' '), parameters };
}

/** The definition of a built-in flow, if `flow` (with or without parameters) names one. */
export function builtInFlow(flow: string): FlowDefinition | undefined {
  const { name } = parseFlow(flow);
  return Object.prototype.hasOwnProperty.call(FLOWS, name) ? FLOWS[name as BuiltInFlow] : undefined;
}

/**
 * Why a rail that rewrites the answer (`label`: "flow 'x'", "rail 'x'") cannot run on `side` with the config's
 * streaming, if it cannot: streaming output rails with stream_first: True release tokens as they arrive. NeMo's
 * develop branch has the same rule (and also demands context_size: 0, which we need not). The issue's key is
 * `rails.output.streaming.stream_first`.
 */
export function rewriteProblem(data: RailsConfigData, side: 'input' | 'output', label: string): string | undefined {
  const { streaming } = data.rails.output;
  if (side !== 'output' || !streaming.enabled || !streaming.stream_first) return undefined;
  return `${label} rewrites the answer, which stream_first: True cannot do (tokens go out as they arrive): set rails.output.streaming.stream_first to False`;
}

/** What is wrong with a built-in flow's parameters, if anything. */
export function flowParameterProblem(flow: string): string | undefined {
  const definition = builtInFlow(flow);
  const { name, parameters } = parseFlow(flow);
  const given = Object.keys(parameters);
  const accepted = definition?.kind === 'judge' && definition.modelParameter ? ['model'] : [];
  const unknown = given.filter((parameter) => !accepted.includes(parameter));
  if (unknown.length === 0) return undefined;
  return accepted.length === 0
    ? `flow '${name}' takes no parameters, got $${unknown.join(', $')}`
    : `flow '${name}' takes $${accepted.join(', $')}, not $${unknown.join(', $')}`;
}

/** An LLM-judged flow's task as NeMo names it: with its `$model=` parameter, when it has one. */
export function judgeTask(flow: string, definition: JudgeFlow): string {
  const model = parseFlow(flow).parameters.model;
  return definition.modelParameter && model !== undefined ? `${definition.task} $model=${model}` : definition.task;
}

/** The `models` type an LLM-judged flow's judge is found by (before falling back to the main model). */
export function judgeModelType(flow: string, definition: JudgeFlow): string {
  return (definition.modelParameter ? parseFlow(flow).parameters.model : undefined) ?? definition.modelType ?? definition.task;
}

/** The task a flow's LLM calls are recorded under, for LLM-judged flows. */
export function flowTask(flow: string): string | undefined {
  const definition = builtInFlow(flow);
  return definition?.kind === 'judge' ? judgeTask(flow, definition) : undefined;
}

/** `'a', 'b' and 'c'`: the built-in flow names, for messages. */
export function listBuiltInFlows(): string {
  const names = BUILT_IN_FLOWS.map((flow) => `'${flow}'`);
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
}

/**
 * What a rule flow's rail factory rejected (an InvalidOptionError: a pattern that does not compile, or matches the
 * empty string), as a config issue at its key under `rails.config.<settings>`; anything else is rethrown.
 */
export function ruleSettingIssue(issue: (path: KeyPath, message: string) => ConfigIssue, definition: RuleFlow, error: unknown): ConfigIssue {
  if (!InvalidOptionError.isInstance(error)) throw error;
  const option = optionPath(error.option);
  const message = error.message.replace(/^[^:]+: /, '').replace(new RegExp(`^${escapeRegExp(error.option)} (?:is )?`), '');
  return issue(['rails', 'config', definition.settings, ...option], message);
}

/** `patterns[2]` → ['patterns', 2]. */
function optionPath(option: string): KeyPath {
  return option.split(/[.[\]]+/).filter((part) => part !== '').map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}
