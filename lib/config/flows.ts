// The built-in flows, in one place: per NeMo flow name, what the flow is, what config it needs and how its rail is
// built. RailsConfig validation, the LLMRails rail plan and the activated-rails log all read this registry; adding a
// flow means adding one entry here and its rail module under rails/.
import type { OutputRail } from '../core/types.js';
import { keywordRail } from '../rails/keywordRail.js';
import { regexRail } from '../rails/regexRail.js';
import { type SelfCheckOptions, selfCheckInput, selfCheckOutput } from '../rails/selfCheck.js';
import {
  detectSensitiveDataRail,
  injectionRail,
  jailbreakHeuristicsMissing,
  jailbreakHeuristicsRail,
  jailbreakModelMissing,
  jailbreakModelRail,
  maskSensitiveDataRail,
  sensitiveDataMissing,
} from './detectionSettings.js';
import type { RailsConfigData } from './railsConfigSchema.js';

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
  /** Makes the rail from the plan's model, compiled prompt and settings. */
  readonly rail: (options: SelfCheckOptions) => OutputRail;
}

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
  more: Pick<RuleFlow, 'side' | 'missing' | 'unsupported' | 'rewritesInput'> = {},
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

const JAILBREAK_MODEL_NEEDS = 'a classifier service under rails.config.jailbreak_detection (nim_base_url, or server_endpoint)';
const JAILBREAK_HEURISTICS_NEEDS = "a perplexity service: rails.config.jailbreak_detection.server_endpoint (NeMo's jailbreak detection server, /heuristics)";
const sensitiveDataNeeds = (side: 'input' | 'output') => `its entity types under rails.config.sensitive_data_detection.${side}.entities`;
const MASK_OUTPUT_UNSUPPORTED =
  "flow 'mask sensitive data on output' is not supported yet: masking a streamed answer needs a rewrite on the release path, which rxguardrails does not have yet; use 'detect sensitive data on output' (blocks instead)";

export const FLOWS = {
  'self check input': { kind: 'judge', task: 'self_check_input', rail: selfCheckInput },
  'self check output': { kind: 'judge', task: 'self_check_output', rail: selfCheckOutput },
  'keyword check': ruleFlow('keyword', 'keyword_check', 'its keywords under rails.config.keyword_check.keywords', (settings, name) =>
    keywordRail(settings.keywords, { name, caseSensitive: settings.case_sensitive, wordBoundary: settings.word_boundary }),
  ),
  'regex check': ruleFlow('regex', 'regex_check', 'its patterns under rails.config.regex_check.patterns', (settings, name) => regexRail(settings.patterns, { name })),
  // Detection rails (NeMo's jailbreak, injection and sensitive-data library rails): settings read in detectionSettings.ts.
  'jailbreak detection model': ruleFlow('service', 'jailbreak_detection', JAILBREAK_MODEL_NEEDS, jailbreakModelRail, { side: 'input', missing: jailbreakModelMissing }),
  'jailbreak detection heuristics': ruleFlow('service', 'jailbreak_detection', JAILBREAK_HEURISTICS_NEEDS, jailbreakHeuristicsRail, { side: 'input', missing: jailbreakHeuristicsMissing }),
  'injection detection': ruleFlow('detector', 'injection_detection', 'its rule sets under rails.config.injection_detection.injections (code, sqli, template, xss)', injectionRail, { side: 'output' }),
  'detect sensitive data on input': ruleFlow('detector', 'sensitive_data_detection', sensitiveDataNeeds('input'), detectSensitiveDataRail('input'), { side: 'input', missing: sensitiveDataMissing('input') }),
  'detect sensitive data on output': ruleFlow('detector', 'sensitive_data_detection', sensitiveDataNeeds('output'), detectSensitiveDataRail('output'), { side: 'output', missing: sensitiveDataMissing('output') }),
  'mask sensitive data on input': ruleFlow('detector', 'sensitive_data_detection', sensitiveDataNeeds('input'), maskSensitiveDataRail, { side: 'input', missing: sensitiveDataMissing('input'), rewritesInput: true }),
  'mask sensitive data on output': ruleFlow('detector', 'sensitive_data_detection', sensitiveDataNeeds('output'), () => undefined, { side: 'output', unsupported: MASK_OUTPUT_UNSUPPORTED }),
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
  return (definition.modelParameter ? parseFlow(flow).parameters.model : undefined) ?? definition.task;
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
