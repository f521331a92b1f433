// rxguardrails/judges: the LLM-judged rails (NeMo's self check input and output), whose prompts are Jinja
// templates. Behind their own entry because the template engine is 53 kB minified: an app that does not build
// judges in its own pipelines pays nothing for it (a config's judge flows load it when first needed).

export { selfCheckInput, selfCheckOutput, type PromptTemplate, type SelfCheckOptions } from '../rails/selfCheck.js';
