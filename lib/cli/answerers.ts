// Where `rxguardrails chat` gets its answers: the rails of a local config, or a running rxguardrails server. An
// answer is a cold Observable of text chunks, so cancelling one (Ctrl-C) is an unsubscribe, and unsubscribing
// aborts the model request and the rails in flight. Each answerer also says how its errors read: blocked by a rail
// (the refusal then enters the conversation) or failed.
import type { Observable } from 'rxjs';
import type { ChatMessage } from '../core/types.js';
import { ProviderError } from '../errors/ProviderError.js';
import { RailViolationError } from '../errors/RailViolationError.js';
import type { RailsConfig } from '../config/RailsConfig.js';
import { LLMRails } from '../llm/LLMRails.js';
import { fromOpenAI } from '../sources/fromOpenAI.js';
import type { OpenAIChatClient } from '../sources/providerTypes.js';
import { UsageTracker } from '../usage/UsageTracker.js';
import { UsageError } from './UsageError.js';

/** Why an answer ended without completing. */
export interface AnswerFailure {
  /** `blocked`: a rail stopped the answer; `failed`: anything else (a provider error, a server gone, a bug). */
  readonly kind: 'blocked' | 'failed';
  /** The one line the chat shows: which rail and why, or what went wrong. */
  readonly message: string;
}

/** Answers a conversation; the chat subscribes once per question. */
export interface Answerer {
  /** The answer to the conversation's last message, as text chunks; unsubscribing cancels it. */
  (history: readonly ChatMessage[]): Observable<string>;
  /** How an error of an answer reads. */
  failure(error: unknown): AnswerFailure;
  /** What `--verbose` prints after each answer: the LLM calls of the latest answer, when the answerer knows them. */
  explain?(): string;
}

/**
 * Answers with the rails of a local config: `rails.answer()`, streamed when the output rails stream, otherwise the
 * whole checked answer as one chunk. A RailViolationError (a violation, or a rail that failed closed) is blocked;
 * so is an input-rail block, which the rails are asked to raise (`onInputViolation: 'error'`) rather than answer
 * with the refusal as if the model had said it.
 */
export function localAnswerer(config: RailsConfig): Answerer {
  // The chat explains each answer's own calls (below); the instance keeps none, or a long chat would keep them all.
  const rails = new LLMRails(config, { onInputViolation: 'error', keepCalls: 0 });
  let latest = new UsageTracker();
  return Object.assign(
    (history: readonly ChatMessage[]) => {
      const calls = new UsageTracker();
      latest = calls;
      return rails.answer(history, { usage: calls });
    },
    {
      failure: (error: unknown): AnswerFailure => {
        if (!RailViolationError.isInstance(error)) return { kind: 'failed', message: errorText(error) };
        const { reason } = error.info.verdict;
        return { kind: 'blocked', message: `${error.message}${reason ? ` (${reason})` : ''}` };
      },
      explain: () => latest.explain().summary(),
    },
  );
}

type OpenAIConstructor = new (options: { apiKey: string; baseURL: string; maxRetries: number }) => OpenAIChatClient;

/**
 * Answers through a running rxguardrails server (`--server-url`), with the `openai` client and the library's own
 * `fromOpenAI`. The answer is always requested as a stream, which is what makes it cancellable; the server's
 * violation frame arrives as a ProviderError of type `guardrails_violation` and reads as blocked.
 * @throws UsageError when the optional `openai` package is not installed.
 */
export async function remoteAnswerer(serverUrl: string, configId: string | undefined, env: Readonly<Record<string, string | undefined>>): Promise<Answerer> {
  let OpenAI: OpenAIConstructor;
  try {
    // A computed specifier: the SDK is an optional peer dependency, needed only here.
    const name = 'openai';
    ({ default: OpenAI } = (await import(name)) as { default: OpenAIConstructor });
  } catch {
    throw new UsageError('--server-url needs the openai package: npm install openai', 1);
  }
  // No retries: a question is asked once; the user sees the failure and may ask again.
  const client = new OpenAI({ apiKey: env.RXGUARDRAILS_API_KEY || 'none', baseURL: `${serverUrl.replace(/\/+$/, '')}/v1`, maxRetries: 0 });
  const selected = configId ? { config_id: configId } : {};
  // An input-rail block as a violation frame (rxguardrails' key), so that it shows as blocked as a local one does.
  const guardrails = { input_violation: 'error' };
  return Object.assign((history: readonly ChatMessage[]) => fromOpenAI(client, { model: 'rxguardrails', messages: history, ...selected, guardrails }), {
    failure: (error: unknown) => remoteFailure(error, serverUrl),
  });
}

/**
 * The server's violation payloads are RailViolationError's: `guardrails_violation`, or `internal_error` with code
 * `rail_execution_failure` for a rail that failed closed (which a local chat shows as blocked too).
 */
function isRemoteViolation(error: ProviderError): boolean {
  return error.type === 'guardrails_violation' || (error.type === 'internal_error' && error.code === 'rail_execution_failure');
}

function remoteFailure(error: unknown, serverUrl: string): AnswerFailure {
  if (!ProviderError.isInstance(error)) return { kind: 'failed', message: errorText(error) };
  // ProviderError's own message names the provider ("openai: ..."), which here is only the client library; the
  // server's words are in what the SDK threw: its payload (`error`) and message.
  const sdkError = error.cause;
  const payload = (sdkError as { error?: { message?: unknown } } | undefined)?.error;
  if (isRemoteViolation(error)) return { kind: 'blocked', message: typeof payload?.message === 'string' ? payload.message : error.message };
  if (error.type === 'connection_error' || error.type === 'timeout') {
    const message = error.during === 'stream' ? `the connection to the server at ${serverUrl} dropped` : `cannot reach the server at ${serverUrl} (${errorText(sdkError)})`;
    return { kind: 'failed', message };
  }
  return { kind: 'failed', message: errorText(sdkError ?? error) };
}

/** An error's message; read by shape, as fetch's errors come from Node's own realm (not the caller's under jest). */
function errorText(error: unknown): string {
  const message = error !== null && typeof error === 'object' ? (error as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : String(error);
}
