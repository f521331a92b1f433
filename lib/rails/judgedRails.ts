// Internal: the LLM-judged rails of the built-in flows, in one module the flow registry imports when a config's
// judge flow is first needed (their prompts are Jinja templates, and the engine is 53 kB of a browser bundle).
export { contentSafetyCheckInput, contentSafetyCheckOutput } from './contentSafety.js';
export { llamaGuardCheckInput, llamaGuardCheckOutput } from './llamaGuard.js';
export { selfCheckInput, selfCheckOutput } from './selfCheck.js';
export { topicSafetyCheckInput } from './topicSafety.js';
