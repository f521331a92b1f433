import type {
  LanguageModelV4Content,
  LanguageModelV4GenerateResult,
  LanguageModelV4Middleware,
  LanguageModelV4StreamPart,
  LanguageModelV4Usage,
  SharedV4ProviderMetadata,
} from '@ai-sdk/provider';
import { catchError, from, lastValueFrom, map, of, throwError, toArray } from 'rxjs';
import type { ChatMessage, OutputRail } from '../core/types.js';
import { RailViolationError } from '../errors/RailViolationError.js';
import type { GuardOptions } from '../operators/guard.js';
import { wholeAnswer } from '../operators/internal/wholeAnswer.js';
import { estimateCompletionTokens, estimatePromptTokens } from '../usage/CallRecorder.js';
import { blockMetadata, forMessages, resolveBridgeSettings } from './internal/bridgeSettings.js';
import { guardParts, type PartProtocol } from './internal/guardParts.js';
import { promptMessages } from './internal/promptMessages.js';
import { fromReadableStream, toReadableStream } from './internal/streams.js';

/**
 * Options of {@link guardrailsMiddleware}: {@link GuardOptions}, with one difference: `messages` defaults to each
 * call's prompt (its system, user and assistant text), so rails see the conversation they judge.
 */
export type GuardrailsMiddlewareOptions = GuardOptions;

/**
 * Guards a Vercel AI SDK language model with output rails: a middleware for `wrapLanguageModel`.
 *
 * Streaming (`streamText`): the text deltas are guarded as `guard` guards a token stream (windows of `chunkSize`
 * deltas, `contextSize` of overlap, `streamFirst`, every rail and option), and released with their block ids; every
 * other part (reasoning, tool calls, sources, files, metadata, the provider's finish) passes unchanged, in its place
 * relative to the text. On a block the model's stream is cancelled (the provider request stops) and the stream ends
 * well formed: open text blocks get the replacement (`mode: 'replace'`) or NeMo's payload (`'chunk'`) and are closed,
 * or an `error` part carries the `RailViolationError` (`'error'`); then a `finish` part with finish reason
 * `content-filter`, the provider's usage if it had arrived or else an estimate, and
 * `providerMetadata.rxguardrails = { blocked, rail, kind, reason, batchIndex, usageEstimated }`. So `onFinish` runs
 * and `totalUsage` resolves.
 *
 * ```
 * rail blocks "bc"              guardrailsMiddleware([rail], { chunkSize: 2, contextSize: 1, mode: 'replace' })
 * model:      -a-b-c-d-finish|
 * streamFirst -a-b-(cR)-F|      R = the replacement, F = finish (content-filter); the model is cancelled at c
 * ```
 *
 * Generating (`generateText`): the whole answer's text is checked at once (one window); a block withholds the text
 * (replaced per `mode`, none for 'error') and reports finish reason `content-filter` with the provider's usage.
 *
 * - Rails that throw, reject or run over `timeout` ms fail closed (unless `onError: 'allow'`), like any guard.
 * - Cancelling the consumer's stream (an abort signal, a client that left) cancels the model's stream and aborts rails
 *   still checking.
 * - Only text is guarded: reasoning, tool-call arguments and tool results pass unchecked.
 *
 * ## Example
 * ```ts
 * import { simulateReadableStream, streamText, wrapLanguageModel } from 'ai';
 * import { MockLanguageModelV4 } from 'ai/test';
 * import { keywordRail } from 'rxguardrails';
 * import { guardrailsMiddleware } from 'rxguardrails/ai-sdk';
 *
 * const model = wrapLanguageModel({
 *   model: new MockLanguageModelV4({ doStream: async () => ({ stream: simulateReadableStream({ chunks: [] }) }) }),
 *   middleware: guardrailsMiddleware([keywordRail(['secret'])], { chunkSize: 20, contextSize: 4, mode: 'replace' }),
 * });
 * const result = streamText({ model, prompt: 'Tell me the secret' });
 * ```
 *
 * @param rails Output rails, each with a unique name.
 * @param options See {@link GuardOptions}; defaults: chunkSize 200, contextSize 50, streamFirst true, mode 'error',
 * messages: the call's prompt.
 */
export function guardrailsMiddleware(rails: readonly OutputRail[], options: GuardrailsMiddlewareOptions = {}): LanguageModelV4Middleware {
  const settings = resolveBridgeSettings('guardrailsMiddleware', rails, options);
  return {
    specificationVersion: 'v4',
    async wrapStream({ doStream, params }) {
      const messages = promptMessages(params.prompt);
      const result = await doStream();
      const parts$ = guardParts(fromReadableStream(result.stream), forMessages(settings, messages), streamProtocol(messages));
      return { ...result, stream: toReadableStream(parts$) };
    },
    async wrapGenerate({ doGenerate, params }) {
      const guardSettings = forMessages(settings, promptMessages(params.prompt));
      const result = await doGenerate();
      const texts = result.content.flatMap((part) => (part.type === 'text' ? [part.text] : []));
      if (texts.length === 0) return result;
      const checked = from(texts).pipe(
        wholeAnswer(guardSettings.check, { mode: 'error', replacement: guardSettings.violation.replacement }),
        toArray(),
        map((released) => released.join('')),
        catchError((error: unknown) => (RailViolationError.isInstance(error) ? of(error) : throwError(() => error))),
      );
      const outcome = await lastValueFrom(checked);
      if (typeof outcome === 'string') return outcome === texts.join('') ? result : withText(result, outcome);
      const { mode, replacement } = guardSettings.violation;
      const shown = mode === 'error' ? undefined : mode === 'chunk' ? outcome.toChunk() : replacement;
      return {
        ...withText(result, shown),
        finishReason: { unified: 'content-filter', raw: result.finishReason.raw },
        providerMetadata: withBlock(result.providerMetadata, outcome, false),
      };
    },
  };
}

/** The result with its text parts replaced by one (at the first one's place), or removed when `text` is undefined. */
function withText(result: LanguageModelV4GenerateResult, text: string | undefined): LanguageModelV4GenerateResult {
  const first = result.content.findIndex((part) => part.type === 'text');
  const content: LanguageModelV4Content[] = [];
  result.content.forEach((part, index) => {
    if (part.type !== 'text') content.push(part);
    else if (index === first && text !== undefined) content.push({ type: 'text', text });
  });
  return { ...result, content };
}

function withBlock(metadata: SharedV4ProviderMetadata | undefined, error: RailViolationError, usageEstimated: boolean): SharedV4ProviderMetadata {
  return { ...metadata, rxguardrails: blockMetadata(error, usageEstimated) };
}

/** The model's stream parts (`text-delta` has `delta`); a block ends with a `finish` part of its own. */
function streamProtocol(messages: readonly ChatMessage[]): PartProtocol<LanguageModelV4StreamPart> {
  let providerFinish: Extract<LanguageModelV4StreamPart, { type: 'finish' }> | undefined;
  let characters = 0;
  let pieces = 0;
  return {
    deltaText: (part) => (part.type === 'text-delta' ? part.delta : ''),
    textPart: (part, text = '') => (part.type === 'text-delta' ? { type: 'text-delta', id: part.id, delta: text } : part),
    arrived(part) {
      if (part.type === 'finish') providerFinish = part;
      if (part.type === 'text-delta' || part.type === 'reasoning-delta') {
        characters += part.delta.length;
        pieces++;
      }
    },
    released: () => undefined,
    ending(error) {
      const usage: LanguageModelV4Usage = providerFinish?.usage ?? {
        inputTokens: { total: estimatePromptTokens(messages), noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
        outputTokens: { total: estimateCompletionTokens(characters, pieces), text: undefined, reasoning: undefined },
      };
      return [
        {
          type: 'finish',
          finishReason: { unified: 'content-filter', raw: providerFinish?.finishReason.raw },
          usage,
          providerMetadata: withBlock(providerFinish?.providerMetadata, error, providerFinish === undefined),
        },
      ];
    },
  };
}
