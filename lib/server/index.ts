// rxguardrails/server: the OpenAI-compatible guardrails server (Node).
export { createApp, drain } from './createApp.js';
export type { CreateAppOptions, ErrorContext } from './CreateAppOptions.js';
