// Internal: the bridge's options, validated once where the middleware or transform is made, and what each call
// adds (the conversation, read from the call's prompt when the options name none).
import { lastUserMessage } from '../../core/messages.js';
import type { ChatMessage, OutputRail } from '../../core/types.js';
import type { RailViolationError } from '../../errors/RailViolationError.js';
import { assertKnownKeys } from '../../internal/validateOptions.js';
import { GUARD_OPTION_KEYS, type GuardOptions, resolveGuardSettings } from '../../operators/guard.js';
import type { GuardSettings } from '../../operators/internal/settings.js';

export interface BridgeSettings {
  readonly guard: GuardSettings;
  /** True when the options named the conversation; otherwise each call's prompt is. */
  readonly fixedMessages: boolean;
}

export function resolveBridgeSettings(owner: string, rails: readonly OutputRail[], options: GuardOptions): BridgeSettings {
  assertKnownKeys(owner, options, GUARD_OPTION_KEYS);
  return { guard: resolveGuardSettings(owner, rails, options), fixedMessages: options.messages !== undefined };
}

/** The settings of one call: the conversation the rails see is the call's own, unless the options fixed one. */
export function forMessages(settings: BridgeSettings, messages: readonly ChatMessage[]): GuardSettings {
  if (settings.fixedMessages) return settings.guard;
  return { ...settings.guard, check: { ...settings.guard.check, messages, userMessage: lastUserMessage(messages) } };
}

/** What a block reports in `providerMetadata.rxguardrails` (JSON values only, as provider metadata must be). */
export function blockMetadata(error: RailViolationError, usageEstimated: boolean): { [key: string]: string | number | boolean } {
  const { rail, batchIndex, verdict } = error.info;
  return { blocked: true, rail, kind: verdict.kind, reason: error.message, batchIndex, usageEstimated };
}
