// Internal: NeMo's detection rails (jailbreak, injection, sensitive data), in one module the flow registry imports
// when a config's detection flow is first needed: injection and sensitive-data detection run on the regex engine.
export { injectionDetection } from './injectionDetection.js';
export { jailbreakDetectionHeuristics, jailbreakDetectionModel } from './jailbreakDetection.js';
export { detectSensitiveData, inputMaskingRail, maskSensitiveDataRail } from './sensitiveData.js';
