import { GuardrailError } from './GuardrailError.js';

/** What a ProviderError knows about the failure. */
export interface ProviderErrorDetails {
  /** `openai`, `anthropic`, ... */
  readonly provider: string;
  /** HTTP status, when the provider answered with an error status (401, 429, 500, 529, ...). */
  readonly status?: number;
  /**
   * The provider's error type (`rate_limit_error`, `server_error`, `overloaded_error`, ...), `connection_error`, or
   * `timeout` (a wait for the provider over its bound: the source's `timeout` option, or the SDK's own).
   */
  readonly type?: string;
  /** The provider's error code, when it gives one (`insufficient_quota`, `model_not_found`, ...). */
  readonly code?: string;
  /** `request`: nothing was streamed yet; `stream`: the stream broke off after some text. */
  readonly during: 'request' | 'stream';
  /**
   * Seconds the provider asked to wait before trying again (its `retry-after` header, or `retry-after-ms`), when
   * it answered with an error status and said so; typically with a 429.
   */
  readonly retryAfter?: number;
  /** The provider's own message. */
  readonly detail: string;
  /** What the SDK threw. */
  readonly cause?: unknown;
}

const RETRYABLE_TYPES = new Set(['connection_error', 'timeout', 'server_error', 'overloaded_error', 'api_error', 'rate_limit_error', 'rate_limit_exceeded']);

/**
 * One error class for every way an LLM provider can fail a stream: an HTTP error status before streaming (401,
 * 429, 500, 529, ...), an error event in the middle of the stream (OpenAI's `error` data, Anthropic's
 * `overloaded_error`), a connection that dropped, or a provider that kept the call waiting over a `timeout` bound
 * (type `timeout`, code `upstream_timeout`).
 *
 * `retryable` says whether trying again (or another provider) may help: rate limits, overloads, server errors
 * and dropped connections, but not bad keys, bad requests or an exhausted quota.
 *
 * ## Example
 * ```ts
 * import { fromOpenAI, ProviderError } from 'rxguardrails';
 *
 * fromOpenAI(client, params).subscribe({
 *   error: (error) => {
 *     if (ProviderError.isInstance(error) && error.status === 429) console.log('rate limited; retry after', error.retryAfter, 's');
 *   },
 * });
 * ```
 */
export class ProviderError extends GuardrailError {
  static override readonly marker: symbol = Symbol.for('rxguardrails.error.ProviderError');

  override name = 'ProviderError';
  readonly provider: string;
  readonly status?: number;
  readonly type?: string;
  readonly code?: string;
  readonly during: 'request' | 'stream';
  readonly retryable: boolean;
  /** Seconds to wait before trying again, when the provider said (`retry-after`); see {@link ProviderErrorDetails}. */
  readonly retryAfter?: number;

  constructor(details: ProviderErrorDetails) {
    const { provider, status, type, code, during, detail } = details;
    const what = [status === undefined ? undefined : `HTTP ${status}`, type, code && code !== type ? code : undefined].filter(Boolean).join(' ');
    super(`${provider}: ${what ? `${what}: ` : ''}${detail}${during === 'stream' ? ' (after the stream had started)' : ''}`, { cause: details.cause });
    this.provider = provider;
    this.status = status;
    this.type = type;
    this.code = code;
    this.during = during;
    this.retryAfter = details.retryAfter;
    this.retryable =
      code !== 'insufficient_quota' &&
      type !== 'insufficient_quota' &&
      ((status !== undefined && (status === 408 || status === 409 || status === 429 || status >= 500)) || (type !== undefined && RETRYABLE_TYPES.has(type)));
  }
}
