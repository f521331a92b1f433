import { defer, filter, groupBy, map, mergeMap, type Observable, takeWhile } from 'rxjs';
import type { LanguageModelUsage, StreamTextTransform, TextStreamPart, ToolSet } from 'ai';
import type { OutputRail } from '../core/types.js';
import type { RailViolationError } from '../errors/RailViolationError.js';
import type { GuardOptions } from '../operators/guard.js';
import { estimateCompletionTokens } from '../usage/CallRecorder.js';
import { blockMetadata, resolveBridgeSettings } from './internal/bridgeSettings.js';
import { guardParts, type PartProtocol } from './internal/guardParts.js';
import { fromReadableStream, toReadableStream } from './internal/streams.js';

/** Options of {@link guardTransform}: {@link GuardOptions} (`messages` is the only conversation rails see). */
export type GuardTransformOptions = GuardOptions;

/**
 * Guards the text of `streamText` with output rails: a transform for `experimental_transform`, for apps that cannot
 * wrap the model (prefer {@link guardrailsMiddleware}, which also guards `generateText` and sees the prompt).
 *
 * The text deltas of every step are guarded as one token stream by `guard` (windows, `streamFirst`, rails, modes);
 * other parts keep their place relative to the text. On a block it calls `stopStream()` (the model's request stops),
 * closes the open text blocks (with the replacement or NeMo's payload, or after an `error` part in mode 'error'), and
 * ends with the `finish-step` (when a step was open) and `finish` parts streamText expects, finish reason
 * `content-filter`, so `onFinish` runs and `totalUsage` resolves. The step's usage is the provider's when it had
 * arrived, else an estimate of the output tokens (input unknown: a transform never sees the prompt), flagged in
 * the finish-step's `providerMetadata.rxguardrails.usageEstimated`.
 *
 * ```
 * rail blocks "bc"        guardTransform([rail], { chunkSize: 2, contextSize: 1, mode: 'replace' })
 * streamText parts:  -a-b-c-d-...|
 * result:            -a-b-(cR)-(SF)|     R = replacement, S = finish-step, F = finish (content-filter)
 * ```
 *
 * ## Example
 * ```ts
 * import { streamText } from 'ai';
 * import { keywordRail } from 'rxguardrails';
 * import { guardTransform } from 'rxguardrails/ai-sdk';
 * import { model } from './model.js';
 *
 * const result = streamText({ model, prompt: 'Hi', experimental_transform: guardTransform([keywordRail(['secret'])]) });
 * ```
 *
 * @param rails Output rails, each with a unique name.
 * @param options See {@link GuardOptions}; defaults: chunkSize 200, contextSize 50, streamFirst true, mode 'error'.
 */
export function guardTransform<TOOLS extends ToolSet = ToolSet>(rails: readonly OutputRail[], options: GuardTransformOptions = {}): StreamTextTransform<TOOLS> {
  const settings = resolveBridgeSettings('guardTransform', rails, options);
  return ({ stopStream }) => {
    const input = new TransformStream<TextStreamPart<TOOLS>, TextStreamPart<TOOLS>>();
    const protocol = transformProtocol<TOOLS>(stopStream);
    const parts$ = bySteps(fromReadableStream(input.readable), (step$) => guardParts(step$, settings.guard, protocol)).pipe(
      // After a block, the finish written for it is the last part, whatever stopStream leaves in flight.
      takeWhile((part) => !(protocol.blocked() && part.type === 'finish'), true),
    );
    return { writable: input.writable, readable: toReadableStream(parts$) } as TransformStream<TextStreamPart<TOOLS>, TextStreamPart<TOOLS>>;
  };
}

type Part<TOOLS extends ToolSet> = TextStreamPart<TOOLS>;

/**
 * Guards each step (the parts up to and including its finish-step) as a stream of its own. streamText closes the
 * transform's input only after its finish-step has come out, so text held for a window still open at the end of a
 * step (streamFirst: false) must be settled when the finish-step arrives, not when the input ends.
 */
function bySteps<TOOLS extends ToolSet>(parts$: Observable<Part<TOOLS>>, guardStep: (step$: Observable<Part<TOOLS>>) => Observable<Part<TOOLS>>): Observable<Part<TOOLS>> {
  return defer(() => {
    let step = 0;
    return parts$.pipe(
      map((part) => ({ part, step: part.type === 'finish-step' ? step++ : step })),
      groupBy(({ step: index }) => index, {
        element: ({ part }) => part,
        duration: (step$) => step$.pipe(filter((part) => part.type === 'finish-step')),
      }),
      // A step starts only after the previous one's finish-step went out (streamText's tool loop), so they never
      // interleave; mergeMap subscribes each group at once, as a group's parts are not replayed.
      mergeMap((step$) => guardStep(step$)),
    );
  });
}
/** streamText's finish-step part (its shape does not depend on the tools). */
type FinishStepPart = Extract<TextStreamPart<ToolSet>, { type: 'finish-step'; usage: unknown }>;

function transformProtocol<TOOLS extends ToolSet>(stopStream: () => void): PartProtocol<Part<TOOLS>> & { blocked(): boolean } {
  let stopped = false;
  let stepOpen = false;
  let stepFinish: FinishStepPart | undefined;
  let total: LanguageModelUsage | undefined;
  let characters = 0;
  let pieces = 0;
  return {
    deltaText: (part) => (part.type === 'text-delta' ? part.text : ''),
    textPart: (part, text = '') => (part.type === 'text-delta' ? { type: 'text-delta', id: part.id, text } : part),
    arrived(part) {
      if (part.type === 'start-step') {
        stepFinish = undefined;
        characters = 0;
        pieces = 0;
      }
      if (part.type === 'finish-step') stepFinish = part as FinishStepPart;
      if (part.type === 'text-delta' || part.type === 'reasoning-delta') {
        characters += part.text.length;
        pieces++;
      }
    },
    released(part) {
      if (part.type === 'start-step') stepOpen = true;
      if (part.type === 'finish-step') {
        stepOpen = false;
        total = addUsage(total, part.usage);
      }
    },
    stop() {
      stopped = true;
      stopStream();
    },
    blocked: () => stopped,
    ending(error) {
      const parts: Part<TOOLS>[] = [];
      if (stepOpen) {
        const usage = stepFinish?.usage ?? estimatedUsage(estimateCompletionTokens(characters, pieces));
        parts.push({
          type: 'finish-step',
          response: stepFinish?.response ?? { id: 'rxguardrails-blocked', timestamp: new Date(), modelId: 'unknown' },
          usage,
          performance: stepFinish?.performance ?? {
            effectiveOutputTokensPerSecond: 0,
            outputTokensPerSecond: undefined,
            inputTokensPerSecond: undefined,
            effectiveTotalTokensPerSecond: 0,
            stepTimeMs: 0,
            responseTimeMs: 0,
            toolExecutionMs: {},
            timeToFirstOutputMs: undefined,
          },
          finishReason: 'content-filter',
          rawFinishReason: stepFinish?.rawFinishReason,
          providerMetadata: withBlock(stepFinish?.providerMetadata, error, stepFinish === undefined),
        });
        total = addUsage(total, usage);
      }
      parts.push({ type: 'finish', finishReason: 'content-filter', rawFinishReason: stepFinish?.rawFinishReason, totalUsage: total ?? estimatedUsage(0) });
      return parts;
    },
  };
}

function withBlock(metadata: Record<string, unknown> | undefined, error: RailViolationError, usageEstimated: boolean) {
  return { ...(metadata as Record<string, never>), rxguardrails: blockMetadata(error, usageEstimated) };
}

function estimatedUsage(outputTokens: number): LanguageModelUsage {
  return {
    inputTokens: undefined,
    inputTokenDetails: { noCacheTokens: undefined, cacheReadTokens: undefined, cacheWriteTokens: undefined },
    outputTokens,
    outputTokenDetails: { textTokens: undefined, reasoningTokens: undefined },
    totalTokens: undefined,
  };
}

/** Sums two usages, keeping unknown apart from 0 (as rxguardrails' addUsage does). */
function addUsage(a: LanguageModelUsage | undefined, b: LanguageModelUsage): LanguageModelUsage {
  if (a === undefined) return b;
  const sum = (x: number | undefined, y: number | undefined) => (x === undefined && y === undefined ? undefined : (x ?? 0) + (y ?? 0));
  return {
    inputTokens: sum(a.inputTokens, b.inputTokens),
    inputTokenDetails: {
      noCacheTokens: sum(a.inputTokenDetails.noCacheTokens, b.inputTokenDetails.noCacheTokens),
      cacheReadTokens: sum(a.inputTokenDetails.cacheReadTokens, b.inputTokenDetails.cacheReadTokens),
      cacheWriteTokens: sum(a.inputTokenDetails.cacheWriteTokens, b.inputTokenDetails.cacheWriteTokens),
    },
    outputTokens: sum(a.outputTokens, b.outputTokens),
    outputTokenDetails: {
      textTokens: sum(a.outputTokenDetails.textTokens, b.outputTokenDetails.textTokens),
      reasoningTokens: sum(a.outputTokenDetails.reasoningTokens, b.outputTokenDetails.reasoningTokens),
    },
    totalTokens: sum(a.totalTokens, b.totalTokens),
  };
}
