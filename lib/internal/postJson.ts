// Internal: one JSON request to a guardrail service (NeMo's jailbreak classifier, its heuristics server, a Presidio
// analyzer), on the global fetch so the core stays browser-safe. Every way the service can fail (no answer within the
// bound, an HTTP error, a body that is not JSON) rejects with an Error whose message says which: the rail then fails,
// and the rails' onError decides (fail closed by default).

/** What {@link postJson} needs besides the body. */
export interface PostJsonOptions {
  /** The service, as messages name it: `the jailbreak classifier at http://...`. */
  readonly service: string;
  /** Extra headers (`Authorization`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Aborts the request from outside (the check is no longer wanted); the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Milliseconds for the whole exchange, body included; `Infinity` waits for ever. */
  readonly timeoutMs: number;
}

/** A response body larger than this is not a verdict: the request fails instead of buffering it. */
const MAX_RESPONSE_BYTES = 1_000_000;

/**
 * POSTs `body` as JSON to `url` and resolves with the parsed JSON answer.
 * @throws (rejects) on a timeout, an abort, a network error, a non-2xx status, an over-long or malformed body.
 */
export async function postJson(url: string, body: unknown, options: PostJsonOptions): Promise<unknown> {
  const { service, headers = {}, signal, timeoutMs } = options;
  signal?.throwIfAborted();
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer =
    timeoutMs === Number.POSITIVE_INFINITY ? undefined : setTimeout(() => controller.abort(new Error(`${service} did not answer within ${timeoutMs} ms`)), timeoutMs);
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      const hint = response.status === 401 || response.status === 403 ? ' (check its API key)' : '';
      throw new Error(`${service} answered HTTP ${response.status}${hint}`);
    }
    const text = await boundedText(response, service);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new Error(`${service} answered malformed JSON: ${JSON.stringify(text.slice(0, 80))}`);
    }
  } catch (error) {
    // fetch rejects with its own AbortError; the reason (the timeout, the caller's signal) says more.
    if (controller.signal.aborted) throw controller.signal.reason;
    throw error;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** The body as text, read until it ends or passes MAX_RESPONSE_BYTES (then the request fails and the body is dropped). */
async function boundedText(response: Response, service: string): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    bytes += value.byteLength;
    if (bytes > MAX_RESPONSE_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`${service} answered more than ${MAX_RESPONSE_BYTES} bytes`);
    }
    text += decoder.decode(value, { stream: true });
  }
}
