// Internal: the reading half of fromGuardrailsServer, loaded by import() on its first request (in parallel with the
// request, so it costs no wait): the HTTP error mapping, the SSE parser (eventsource-parser) and what each frame
// means. A browser app that never calls a guardrails server does not load it, and one that does loads it while the
// server works on the first token; the core's initial bundle keeps only the option checks.
import type { RailVerdict, Usage } from '../core/types.js';
import { ProviderError } from '../errors/ProviderError.js';
import { RailViolationError } from '../errors/RailViolationError.js';
import { sseData, SseOverflow } from './sseData.js';

/** The provider name in errors and usage records. */
export const PROVIDER = 'guardrails-server';

/** What one frame of the server's stream gives the source: text, usage, or both or neither. */
export interface ServerFrame {
  readonly content?: string;
  readonly usage?: Usage;
  /** The frame gave choice 0 its `finish_reason`: the answer's text is whole. */
  readonly finished?: true;
}

/** One `data:` payload of the server's stream, as far as it is read here. */
interface Frame {
  readonly choices?: readonly { readonly index?: number; readonly delta?: { readonly content?: unknown }; readonly finish_reason?: unknown }[];
  readonly usage?: { readonly prompt_tokens?: unknown; readonly completion_tokens?: unknown; readonly total_tokens?: unknown } | null;
  readonly error?: { readonly message?: unknown; readonly type?: unknown; readonly param?: unknown; readonly code?: unknown };
}

/**
 * The frames of the server's answer to a streaming request (`request`: the fetch to `url`), read as they come, up to `data: [DONE]` (the rest is not
 * read, and the response is cancelled). Throws a ProviderError for a request that failed (a connection_error, unless
 * `abort` says the source stopped it), an HTTP error status (with the server's message),
 * an answer that is not an event stream, a frame that is not JSON, an error frame, and a stream that ends before
 * `[DONE]` without a `finish_reason` (cut short); a RailViolationError for NeMo's violation frame.
 *
 * Once frames are read, what the server sent (a violation or error frame, a frame that cannot be read) is thrown as
 * a GuardrailError, and a failure to read the body (a dropped connection) as the body's own error, a TypeError:
 * fromGuardrailsServer tells them apart after the finish frame, where a drop completes the answer and what the server
 * sent still fails it.
 */
export async function* serverFrames(request: Promise<Response>, url: string, abort: AbortSignal): AsyncGenerator<ServerFrame, void, undefined> {
  let response: Response;
  try {
    response = await request;
  } catch (error) {
    if (abort.aborted) throw error;
    // Browsers say no more than "Failed to fetch" for an unreachable server and for a request CORS refused alike.
    const detail = `cannot reach the guardrails server at ${url} (${String((error as Error | undefined)?.message ?? error)})`;
    throw new ProviderError({ provider: PROVIDER, type: 'connection_error', during: 'request', detail, cause: error });
  }
  if (!response.ok) throw await httpError(response);
  const type = response.headers.get('content-type') ?? '';
  if (!/^text\/event-stream\b/i.test(type) || response.body === null) {
    await response.body?.cancel().catch(() => undefined);
    throw new ProviderError({
      provider: PROVIDER,
      status: response.status,
      type: 'invalid_response',
      during: 'request',
      detail: `expected a text/event-stream answer, got ${type === '' ? 'no content-type' : type.slice(0, 100)}`,
    });
  }
  let finished = false;
  let streamed = false;
  const during = () => (streamed ? 'stream' : 'request');
  const malformed = (detail: string, cause?: unknown) =>
    new ProviderError({ provider: PROVIDER, type: 'invalid_response', code: 'malformed_frame', during: during(), detail, cause });
  try {
    for await (const data of sseData(response.body)) {
      if (data === '[DONE]') return;
      let frame: Frame;
      try {
        frame = JSON.parse(data) as Frame;
      } catch (error) {
        throw malformed(`the server sent a frame that is not JSON: ${JSON.stringify(data.length > 100 ? `${data.slice(0, 100)}...` : data)}`, error);
      }
      if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) throw malformed(`the server sent a frame that is not a JSON object: ${data.slice(0, 100)}`);
      if (frame.error !== undefined) throw frameError(frame.error, during());
      const choices = Array.isArray(frame.choices) ? frame.choices : [];
      const first = choices.find((choice) => (choice?.index ?? 0) === 0);
      // The text emitted is choice 0's, so its finish is the one that makes the answer whole, at the body's end as
      // on a dropped connection (below).
      if (typeof first?.finish_reason === 'string') finished = true;
      const content = first?.delta?.content;
      const usage = frame.usage ? usageOf(frame.usage) : undefined;
      if (typeof content === 'string' && content !== '') streamed = true;
      yield {
        ...(typeof content === 'string' && content !== '' ? { content } : {}),
        ...(usage ? { usage } : {}),
        ...(typeof first?.finish_reason === 'string' ? { finished: true as const } : {}),
      };
    }
  } catch (error) {
    if (error instanceof SseOverflow) {
      throw new ProviderError({ provider: PROVIDER, type: 'invalid_response', code: 'event_too_large', during: during(), detail: `the server sent ${error.message}`, cause: error });
    }
    throw error;
  }
  if (!finished) {
    throw new ProviderError({
      provider: PROVIDER,
      type: 'connection_error',
      code: 'truncated',
      during: during(),
      detail: 'the stream ended before data: [DONE] and without a finish_reason: the answer was cut short',
    });
  }
}

function usageOf(usage: NonNullable<Frame['usage']>): Usage {
  const number = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
  return { promptTokens: number(usage.prompt_tokens), completionTokens: number(usage.completion_tokens), totalTokens: number(usage.total_tokens) };
}

/** A violation frame as the RailViolationError the server's stream ended with; any other error frame as a ProviderError. */
function frameError(error: NonNullable<Frame['error']>, during: 'request' | 'stream'): RailViolationError | ProviderError {
  const message = typeof error.message === 'string' ? error.message : undefined;
  const type = typeof error.type === 'string' ? error.type : undefined;
  const code = typeof error.code === 'string' ? error.code : undefined;
  const rail = typeof error.param === 'string' && error.param !== '' ? error.param : undefined;
  const payload = { message, type, param: error.param ?? null, code: error.code ?? null };
  if (rail !== undefined && message !== undefined && type === 'guardrails_violation') {
    const verdict: RailVerdict = { rail, allowed: false, kind: 'violation', reason: message, details: { payload } };
    // NeMo's wording is the error's own; a server with enable_rails_exceptions words it otherwise, which is kept.
    const exception = message === `Blocked by ${rail} rails.` ? undefined : { type, message };
    return new RailViolationError({ rail, batchIndex: 0, verdict, ...(exception ? { exception } : {}) });
  }
  if (rail !== undefined && message !== undefined && type === 'internal_error' && code === 'rail_execution_failure') {
    const prefix = `Internal error in ${rail} rail: `;
    const reason = message.startsWith(prefix) ? message.slice(prefix.length) : message;
    const verdict: RailVerdict = { rail, allowed: false, kind: 'internal_error', reason, details: { payload } };
    return new RailViolationError({ rail, batchIndex: 0, verdict });
  }
  return new ProviderError({ provider: PROVIDER, type, code, during, detail: message ?? 'the server sent an error frame without a message' });
}

/** An HTTP error answer as a ProviderError with the server's own message (OpenAI's error shape). */
async function httpError(response: Response): Promise<ProviderError> {
  const text = await response.text().catch(() => '');
  let parsed: Frame['error'];
  try {
    parsed = (JSON.parse(text) as Frame | null)?.error;
  } catch {
    parsed = undefined;
  }
  const message = typeof parsed?.message === 'string' && parsed.message !== '' ? parsed.message : text.trim().slice(0, 300) || response.statusText || 'no message';
  // Readable from another origin only when the server exposes it (rxguardrails' server does, with corsOrigins).
  const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN);
  return new ProviderError({
    provider: PROVIDER,
    status: response.status,
    type: typeof parsed?.type === 'string' ? parsed.type : undefined,
    code: typeof parsed?.code === 'string' ? parsed.code : undefined,
    during: 'request',
    detail: message,
    ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfter } : {}),
  });
}
