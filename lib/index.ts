// rxguardrails: guardrails for streaming LLM output, as RxJS operators.
// This entry is browser-safe: nothing here, directly or not, imports a Node built-in or an LLM SDK
// (LLMRails imports an SDK at run time only for a config engine it was given no client for).

// Operators
export type { CheckedBatch, ChunkBatch } from './core/types.js';
export { bufferChunks, type BufferChunksOptions } from './operators/bufferChunks.js';
export { checkRail, type CheckRailOptions } from './operators/checkRail.js';
export { blockOnViolation, type BlockOnViolationOptions } from './operators/blockOnViolation.js';
export { guard, type GuardOptions } from './operators/guard.js';

// Rails
export type {
  ChatMessage,
  OutputRail,
  RailContext,
  RailDecision,
  RailMatch,
  RailRewrite,
  RailResult,
  RailVerdict,
} from './core/types.js';
export { defineRail } from './rails/defineRail.js';
export { keywordRail, type KeywordRailOptions } from './rails/keywordRail.js';
// regexRail is in rxguardrails/regex, the LLM-judged rails in rxguardrails/judges, NeMo's detection rails in
// rxguardrails/detectors: their engines are most of a bundle.

// Token sources
export { fromTokens, type FromTokensOptions, type TokenInput } from './sources/fromTokens.js';
export { fromOpenAI } from './sources/fromOpenAI.js';
export { fromOpenAIResponses } from './sources/fromOpenAIResponses.js';
export { fromAnthropic } from './sources/fromAnthropic.js';
export { fromGuardrailsServer, type FromGuardrailsServerOptions } from './sources/fromGuardrailsServer.js';
export type { Demand, SourceOptions } from './core/types.js';
export { DemandGate } from './sources/DemandGate.js';
export type {
  AnthropicClient,
  AnthropicEvent,
  AnthropicParams,
  OpenAIChatChunk,
  OpenAIChatClient,
  OpenAIChatParams,
  OpenAIResponsesClient,
  OpenAIResponsesEvent,
  OpenAIResponsesParams,
} from './sources/providerTypes.js';
export { AsyncTextIteratorStreamer } from './sources/AsyncTextIteratorStreamer.js';

// Combining providers
export { fallback, type FallbackOptions } from './sources/fallback.js';
export { hedge, type HedgeOptions } from './sources/hedge.js';
export { mergeLabelled, type LabelledText } from './sources/mergeLabelled.js';

// Models
export type { ChatModel, ChatModelCallOptions } from './core/types.js';
export { openAIModel, type OpenAIModelOptions } from './models/openAIModel.js';
export { anthropicModel, type AnthropicModelOptions } from './models/anthropicModel.js';
export { scriptedModel, type ScriptedModelOptions, type ScriptedResponse } from './models/scriptedModel.js';

// Usage
export type { LlmCallInfo, Usage, UsageSink } from './core/types.js';
export { UsageTracker, type UsageTotals } from './usage/UsageTracker.js';
export { addUsage } from './usage/addUsage.js';
export { ExplainInfo } from './usage/ExplainInfo.js';

// Telemetry (hooks only; spans and metrics through OpenTelemetry are in rxguardrails/otel)
export type { RailCheckInfo, Telemetry, TelemetryRequest, TelemetryRequestEnd, TelemetryRequestStart } from './core/types.js';

// Config and the LLMRails facade
export { RailsConfig, type CustomRails, type RailsConfigOptions } from './config/RailsConfig.js';
export { BUILT_IN_FLOWS } from './config/flows.js';
export type { ModelConfig, PromptConfig, RailsConfigData } from './config/railsConfigSchema.js';
export { LLMRails } from './llm/LLMRails.js';
export type { GenerateOptions, LLMRailsOptions, StreamOptions } from './llm/LLMRailsOptions.js';
export type { EngineClients } from './llm/engineModel.js';
export { StreamingHandler, type StreamingHandlerOptions } from './llm/StreamingHandler.js';
export type {
  ActivatedRail,
  AssistantMessage,
  GenerationLog,
  GenerationLogOptions,
  GenerationResponse,
  GenerationStats,
} from './llm/GenerationResponse.js';

// Errors
export { GuardrailError } from './errors/GuardrailError.js';
export { RailViolationError, type GuardrailsErrorPayload, type RailException, type RailViolationInfo } from './errors/RailViolationError.js';
export { InvalidOptionError } from './errors/InvalidOptionError.js';
export { InvalidItemError } from './errors/InvalidItemError.js';
export { ProviderError, type ProviderErrorDetails } from './errors/ProviderError.js';
export { ConfigError, type ConfigIssue } from './errors/ConfigError.js';
export { StreamingNotSupportedError } from './errors/StreamingNotSupportedError.js';
