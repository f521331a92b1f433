// rxguardrails: guardrails for streaming LLM output, as RxJS operators.
// This entry is browser-safe: nothing here, directly or not, imports a Node built-in.

// Operators
export { bufferChunks, type BufferChunksOptions, type ChunkBatch } from './operators/bufferChunks.js';
export { checkRail, type CheckRailOptions, type CheckedBatch } from './operators/checkRail.js';
export { blockOnViolation, type BlockOnViolationOptions } from './operators/blockOnViolation.js';
export { guard, type GuardOptions } from './operators/guard.js';

// Rails
export type {
  ChatMessage,
  OutputRail,
  RailContext,
  RailDecision,
  RailMatch,
  RailResult,
  RailVerdict,
} from './rails/OutputRail.js';
export { defineRail } from './rails/defineRail.js';
export { keywordRail, type KeywordRailOptions } from './rails/keywordRail.js';
export { regexRail, type RegexRailOptions } from './rails/regexRail.js';

// Errors
export { GuardrailError } from './errors/GuardrailError.js';
export { RailViolationError, type GuardrailsErrorPayload, type RailViolationInfo } from './errors/RailViolationError.js';
export { InvalidOptionError } from './errors/InvalidOptionError.js';
export { InvalidItemError } from './errors/InvalidItemError.js';
