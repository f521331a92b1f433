// rxguardrails/otel: the Telemetry hooks of LLMRails and createApp as OpenTelemetry spans and metrics. Behind its own
// entry because it imports @opentelemetry/api (an optional peer dependency): nothing else in the library does, and
// the core entry stays free of it.

export { openTelemetry, type OpenTelemetryOptions } from './openTelemetry.js';
