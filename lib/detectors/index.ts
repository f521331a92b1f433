// rxguardrails/detectors: NeMo's detection rails: jailbreak detection (a classifier or perplexity service over HTTP),
// injection detection and sensitive-data detection and masking (patterns and checksums on the linear-time regex
// engine, a Presidio analyzer for named entities). Behind their own entry because of that engine (150 kB minified):
// an app that does not use them pays nothing for them (a config's detection flows load them when first needed).

export {
  jailbreakDetectionHeuristics,
  jailbreakDetectionModel,
  type JailbreakDetectionHeuristicsOptions,
  type JailbreakDetectionModelOptions,
} from '../rails/jailbreakDetection.js';
export { injectionDetection, type InjectionDetectionOptions, type InjectionRule } from '../rails/injectionDetection.js';
export { detectSensitiveData, maskSensitiveData, maskSensitiveDataRail, type SensitiveDataOptions, type SensitiveDataRecognizer } from '../rails/sensitiveData.js';
