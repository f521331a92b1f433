// rxguardrails/ai-sdk: output rails for the Vercel AI SDK (`ai` 7, LanguageModelV4). `ai` and `@ai-sdk/provider` are
// optional peer dependencies, imported for their types only: nothing here loads them at run time.
export { guardrailsMiddleware, type GuardrailsMiddlewareOptions } from './guardrailsMiddleware.js';
export { guardTransform, type GuardTransformOptions } from './guardTransform.js';
