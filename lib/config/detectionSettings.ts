// The detection flows' rails made from their `rails.config` settings (jailbreak_detection, injection_detection,
// sensitive_data_detection): NeMo's snake_case keys turned into the rails' options, and what the rails reject placed
// back at the key it came from. flows.ts has one entry per flow calling these.
import type { OutputRail } from '../core/types.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { PATTERN_ENTITIES } from '../internal/patternEntities.js';
import { LazyModule, lazyRail } from '../internal/lazyRail.js';
import type { SensitiveDataOptions } from '../rails/sensitiveData.js';
import type { RailsConfigData } from './railsConfigSchema.js';
import { environmentVariable } from '../internal/environmentVariable.js';

type RuleSettings = RailsConfigData['rails']['config'];
type DetectionRails = typeof import('../rails/detectionRails.js');

/**
 * The detection rails' module, imported when a flow first needs it (see internal/lazyRail.ts). Until then what the
 * rails' factories check beyond the schema waits for LLMRails.warmUp() or the first check (fail-closed); Node's
 * config loader imports it first.
 */
export const detectionModule = new LazyModule<DetectionRails>(() => import('../rails/detectionRails.js'));

/** A rail made by `make` from the detection rails' module, at once when it is loaded (what it throws placed by fromSettings). */
const detectionRail = (name: string, make: (module: DetectionRails) => OutputRail) => lazyRail(name, detectionModule, make);
type JailbreakSettings = NonNullable<RuleSettings['jailbreak_detection']>;
type SensitiveDataSettings = NonNullable<RuleSettings['sensitive_data_detection']>;
type Side = 'input' | 'output';

// The config's bound on each rail's check (check_timeout_ms, always set) bounds these services' requests too, as it
// bounds the LLM judges: the rails need no bound of their own.
const UNBOUNDED = Number.POSITIVE_INFINITY;

/** `jailbreak detection model`: the NIM (nim_base_url, or NeMo v0.13's nim_url/nim_port), else the container's /model. */
export function jailbreakModelRail(settings: JailbreakSettings, name: string): OutputRail | undefined {
  const nimBaseUrl = settings.nim_base_url ?? (settings.nim_url === undefined ? undefined : `http://${settings.nim_url}:${settings.nim_port ?? 8000}/v1`);
  if (nimBaseUrl === undefined && settings.server_endpoint === undefined) return undefined; // reported where the flow is used
  const apiKey = settings.api_key ?? (settings.api_key_env_var === undefined ? undefined : environmentVariable(settings.api_key_env_var));
  return fromSettings(() =>
    detectionRail(name, ({ jailbreakDetectionModel }) => jailbreakDetectionModel({
      name,
      timeoutMs: UNBOUNDED,
      ...(nimBaseUrl === undefined ? { serverEndpoint: settings.server_endpoint } : { nimBaseUrl, nimServerEndpoint: settings.nim_server_endpoint }),
      ...(apiKey ? { apiKey } : {}),
    })),
  );
}

/**
 * The environment variable `api_key_env_var` names for the classifier's key, when it is unset (and no `api_key` is
 * given): as for a model's key (NeMo: "Model API Key environment variable 'V' not set."), a server then serves the
 * config's neighbours and answers this one 503, where the classifier would refuse every message as an internal error.
 */
export function jailbreakKeyUnset(rules: RuleSettings): { readonly key: (string | number)[]; readonly variable: string; readonly message: string } | undefined {
  const settings = rules.jailbreak_detection;
  const variable = settings?.api_key_env_var;
  if (variable === undefined || settings?.api_key !== undefined || environmentVariable(variable)) return undefined;
  return {
    key: ['rails', 'config', 'jailbreak_detection', 'api_key_env_var'],
    variable,
    message: `Model API Key environment variable '${variable}' not set: 'jailbreak detection model' sends it to its classifier; set it (or give rails.config.jailbreak_detection.api_key)`,
  };
}

/** What `jailbreak detection model` lacks, when it is used. */
export function jailbreakModelMissing(rules: RuleSettings): string | undefined {
  const settings = rules.jailbreak_detection;
  if (settings?.nim_base_url ?? settings?.nim_url ?? settings?.server_endpoint) return undefined;
  return "flow 'jailbreak detection model' needs a classifier service: rails.config.jailbreak_detection.nim_base_url (a NemoGuard JailbreakDetect NIM) or server_endpoint (NeMo's jailbreak detection container); rxguardrails has no in-process classifier";
}

/** `jailbreak detection heuristics`: NeMo's jailbreak detection server computes the perplexities. */
export function jailbreakHeuristicsRail(settings: JailbreakSettings, name: string): OutputRail | undefined {
  if (settings.server_endpoint === undefined) return undefined; // reported where the flow is used
  return fromSettings(() =>
    detectionRail(name, ({ jailbreakDetectionHeuristics }) => jailbreakDetectionHeuristics({
      name,
      timeoutMs: UNBOUNDED,
      serverEndpoint: settings.server_endpoint!,
      lengthPerPerplexityThreshold: settings.length_per_perplexity_threshold,
      prefixSuffixPerplexityThreshold: settings.prefix_suffix_perplexity_threshold,
    })),
  );
}

/** What `jailbreak detection heuristics` lacks, when it is used. */
export function jailbreakHeuristicsMissing(rules: RuleSettings): string | undefined {
  if (rules.jailbreak_detection?.server_endpoint) return undefined;
  return "flow 'jailbreak detection heuristics' needs a perplexity service: set rails.config.jailbreak_detection.server_endpoint to NeMo's jailbreak detection server (http://<host>:1337/heuristics); the heuristics need GPT-2 large, which rxguardrails does not run in-process";
}

/** `injection detection`. */
export function injectionRail(settings: NonNullable<RuleSettings['injection_detection']>, name: string): OutputRail {
  return fromSettings(() => detectionRail(name, ({ injectionDetection }) => injectionDetection({ name, injections: settings.injections, action: settings.action })));
}

/** `detect sensitive data on input|output`: the side's entities and threshold, the recognizers and analyzer of all. */
export function detectSensitiveDataRail(side: Side): (settings: SensitiveDataSettings, name: string) => OutputRail | undefined {
  return (settings, name) => {
    const options = sensitiveDataOptions(settings, side);
    return options && fromSettings(() => detectionRail(name, ({ detectSensitiveData }) => detectSensitiveData({ ...options, name })), side);
  };
}

/** `mask sensitive data on input`: a rail that always passes, carrying the masked message for the rail plan. */
export function maskInputRail(settings: SensitiveDataSettings, name: string): OutputRail | undefined {
  const options = sensitiveDataOptions(settings, 'input');
  return options && fromSettings(() => detectionRail(name, ({ inputMaskingRail }) => inputMaskingRail(name, options)), 'input');
}

/** `mask sensitive data on output`: a rail that always passes, rewriting each entity found to `<ENTITY_TYPE>`. */
export function maskOutputRail(settings: SensitiveDataSettings, name: string): OutputRail | undefined {
  const options = sensitiveDataOptions(settings, 'output');
  return options && fromSettings(() => detectionRail(name, ({ maskSensitiveDataRail }) => maskSensitiveDataRail({ ...options, name })), 'output');
}

/** What a sensitive-data flow of a side lacks, when it is used. */
export function sensitiveDataMissing(side: Side): (rules: RuleSettings) => string | undefined {
  return (rules) =>
    (rules.sensitive_data_detection?.[side]?.entities.length ?? 0) > 0
      ? undefined
      : `needs the entity types to look for under rails.config.sensitive_data_detection.${side}.entities (EMAIL_ADDRESS, CREDIT_CARD, ...)`;
}

/**
 * The rail options of one side, or undefined when the side is not configured. An entity that needs a named-entity
 * model without an analyzer is placed at its key, in the config's words.
 */
function sensitiveDataOptions(settings: SensitiveDataSettings, side: Side): SensitiveDataOptions | undefined {
  const own = settings[side];
  if (own === undefined || own.entities.length === 0) return undefined;
  const custom = settings.recognizers.map((recognizer) => recognizer.supported_entity);
  // Without the detection module (and its regex engine) loaded, the recognizers' patterns are checked here, as
  // `regex check`'s are: their syntax (what the engine cannot run is found when the module is).
  if (detectionModule.value === undefined) recognizerPatternProblems(settings);
  if (settings.analyzer_endpoint === undefined) {
    const index = own.entities.findIndex((entity) => !custom.includes(entity) && !(PATTERN_ENTITIES as readonly string[]).includes(entity));
    if (index !== -1) {
      throw new InvalidOptionError(
        `${side}.entities[${index}]`,
        own.entities[index],
        `sensitive_data_detection: ${side}.entities[${index}] is ${own.entities[index]!}, which needs a named-entity model: set rails.config.sensitive_data_detection.analyzer_endpoint to a Presidio analyzer's /analyze URL (without one rxguardrails recognizes ${PATTERN_ENTITIES.join(', ')} and the entities of recognizers)`,
      );
    }
  }
  return {
    entities: own.entities,
    scoreThreshold: own.score_threshold,
    timeoutMs: UNBOUNDED,
    recognizers: settings.recognizers.map((recognizer) => ({
      supportedEntity: recognizer.supported_entity,
      ...(recognizer.deny_list ? { denyList: recognizer.deny_list } : {}),
      ...(recognizer.deny_list_score === undefined ? {} : { denyListScore: recognizer.deny_list_score }),
      ...(recognizer.patterns ? { patterns: recognizer.patterns } : {}),
      ...(recognizer.context ? { context: recognizer.context } : {}),
    })),
    ...(settings.analyzer_endpoint === undefined ? {} : { analyzerEndpoint: settings.analyzer_endpoint }),
  };
}

/**
 * Makes a rail; an option it rejects is renamed to the config's key (`nimBaseUrl` → `nim_base_url`,
 * `entities[2]` → `input.entities[2]`), so RailsConfig places the problem there.
 */
function fromSettings(make: () => OutputRail, side?: Side): OutputRail {
  try {
    return make();
  } catch (error) {
    if (!InvalidOptionError.isInstance(error)) throw error;
    const key = error.option.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
    const placed = side !== undefined && /^(?:entities|score_threshold)\b/.test(key) ? `${side}.${key}` : key;
    throw new InvalidOptionError(placed, error.value, error.message.replace(error.option, placed));
  }
}

/** Throws, at its key, a recognizer pattern that does not parse. */
function recognizerPatternProblems(settings: SensitiveDataSettings): void {
  settings.recognizers.forEach((recognizer, index) => {
    recognizer.patterns?.forEach(({ regex }, position) => {
      const option = `recognizers[${index}].patterns[${position}].regex`;
      try {
        // The flags the recognizers compile their patterns with.
        new RegExp(regex, 'imsu');
      } catch (error) {
        throw new InvalidOptionError(option, regex, `sensitive_data_detection: ${option} is not a valid regular expression: ${(error as Error).message}`);
      }
    });
  });
}
