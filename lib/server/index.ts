// rxguardrails/server: the OpenAI-compatible guardrails server (Node).
export { createApp, type CreateAppOptions } from './createApp.js';
