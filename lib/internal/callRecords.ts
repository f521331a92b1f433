// Internal: what every record of a call shares (its id), and the record of a call to a service that is not an LLM (a
// classifier: NeMo's explain() lists it with its duration and no tokens).
import type { LlmCallInfo, UsageSink } from '../core/types.js';
import { epochMilliseconds, now } from './clock.js';

let fallbackId = 0;

/** A unique id per recorded call. */
export const newCallId = (): string =>
  typeof globalThis.crypto?.randomUUID === 'function' ? globalThis.crypto.randomUUID() : `call-${Date.now().toString(36)}-${(fallbackId++).toString(36)}`;

/** What a service call is recorded as: its task, provider and model (the service's address, for a classifier). */
export interface ServiceCallDescription {
  readonly task: string;
  readonly provider: string;
  readonly model: string;
}

/**
 * Runs `call` and records it to `sink` once it settles: its duration and outcome, no token counts (a service that is
 * not an LLM has none: unknown, not 0). `signal` aborted by then makes the outcome `cancelled`.
 */
export async function recordServiceCall<T>(sink: UsageSink | undefined, description: ServiceCallDescription, signal: AbortSignal, call: () => Promise<T>): Promise<T> {
  if (!sink) return call();
  const started = now();
  const finish = (outcome: LlmCallInfo['outcome']): void => {
    const durationMs = Math.max(0, now() - started);
    const startedAt = epochMilliseconds(started);
    sink.next({ id: newCallId(), ...description, durationMs, startedAt, finishedAt: startedAt + durationMs, estimated: false, outcome });
  };
  try {
    const result = await call();
    finish('completed');
    return result;
  } catch (error) {
    finish(signal.aborted ? 'cancelled' : 'error');
    throw error;
  }
}
