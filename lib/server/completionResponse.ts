// Internal: the JSON writer, a whole `chat.completion` for a request without `stream`.
import { blockedAnswer } from '../core/refusals.js';
import { RailViolationError } from '../errors/RailViolationError.js';
import type { AssistantMessage } from '../llm/GenerationResponse.js';
import type { UsageTracker } from '../usage/UsageTracker.js';
import { errorPayload, violationPayload } from './errorPayload.js';
import type { Lifecycle } from './lifecycle.js';
import { type CompletionIds, openAIUsage } from './openAIProtocol.js';
import { shutdownError } from './sseResponse.js';

/** What {@link completionResponse} needs besides the answer. */
export interface CompletionResponseOptions {
  readonly ids: CompletionIds;
  /** The config that answered, reported under `guardrails.config_id`. */
  readonly configId: string;
  /** Where the answer's LLM calls were recorded: every call of the request, judges included. */
  readonly usage: UsageTracker;
  /** Where an unexpected failure goes (it is answered with a 500). */
  readonly onError: (error: unknown) => void;
  /** Failures reach the client without their detail, which goes to `onError` (see {@link errorPayload}). */
  readonly hideErrorDetail: boolean;
  /** Why a shutdown stopped the answer, if one did: it is answered with a 503 saying so. */
  readonly stopped: () => string | undefined;
  /** The server's answers in flight: its response headers (`Connection: close` while it shuts down). */
  readonly lifecycle: Lifecycle;
}

/**
 * The answer as one `chat.completion` with usage and `guardrails: { config_id }`. A blocked answer (an input or an
 * output rail) is NeMo's refusal with the violation under `guardrails.violation`; any other failure an OpenAI-shaped
 * error (see {@link errorPayload}).
 */
export async function completionResponse(answer: Promise<AssistantMessage>, options: CompletionResponseOptions): Promise<Response> {
  const { ids, configId, usage, onError, hideErrorDetail, stopped, lifecycle } = options;
  let content: string;
  let violation: unknown;
  try {
    content = (await answer).content;
  } catch (error) {
    const reason = stopped();
    if (reason !== undefined) return Response.json(shutdownError(reason), { status: 503, headers: lifecycle.responseHeaders() });
    if (!RailViolationError.isInstance(error)) {
      const { payload, status, headers } = errorPayload(error, onError, hideErrorDetail);
      return new Response(payload, { status, headers: { ...lifecycle.responseHeaders(), 'content-type': 'application/json', ...headers } });
    }
    // As NeMo's server answers a blocked message: the refusal (or, for a rail that failed, its internal-error
    // answer), as a normal completion.
    content = blockedAnswer(error.info.verdict);
    violation = violationPayload(error, onError, hideErrorDetail);
  }
  return Response.json(
    {
      id: ids.id,
      object: 'chat.completion',
      created: ids.created,
      model: ids.model,
      choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: openAIUsage(usage.snapshot().totals),
      guardrails: { config_id: configId, ...(violation ? { violation } : {}) },
    },
    { headers: lifecycle.responseHeaders() },
  );
}
