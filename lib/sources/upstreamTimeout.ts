// Internal: the bounds on the waits of a provider call (SourceOptions.timeout), checked by one timer per wait
// rather than one per event, and the ProviderError a wait over its bound ends the call with.
import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import type { SourceOptions } from '../core/types.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { ProviderError } from '../errors/ProviderError.js';
import { assertDuration, describeValue } from '../internal/validateOptions.js';

/** The waits of one call that have a bound, in milliseconds. */
export interface UpstreamBounds {
  /** From the subscription to the first event of the provider's stream. */
  readonly firstTokenMs?: number;
  /** Between two events. */
  readonly idleMs?: number;
}

/** `timeout` as written (a number for both waits, or an object), checked and made an object. */
export function upstreamBounds(owner: string, timeout: SourceOptions['timeout']): UpstreamBounds {
  if (timeout === undefined) return {};
  if (typeof timeout === 'number') {
    assertDuration(owner, 'timeout', timeout);
    return { firstTokenMs: timeout, idleMs: timeout };
  }
  if (timeout === null || typeof timeout !== 'object' || Array.isArray(timeout)) {
    throw new InvalidOptionError(
      'timeout',
      timeout,
      `${owner}: timeout must be a number of milliseconds or { firstTokenMs?, idleMs? }, got ${describeValue(timeout)}`,
    );
  }
  for (const key of Object.keys(timeout)) {
    if (key !== 'firstTokenMs' && key !== 'idleMs') {
      throw new InvalidOptionError(`timeout.${key}`, (timeout as Record<string, unknown>)[key], `${owner}: unknown option 'timeout.${key}'; timeout takes firstTokenMs, idleMs`);
    }
  }
  const { firstTokenMs, idleMs } = timeout;
  if (firstTokenMs !== undefined) assertDuration(owner, 'timeout.firstTokenMs', firstTokenMs);
  if (idleMs !== undefined) assertDuration(owner, 'timeout.idleMs', idleMs);
  return { ...(firstTokenMs === undefined ? {} : { firstTokenMs }), ...(idleMs === undefined ? {} : { idleMs }) };
}

/** A model's bounds with a call's over them, wait by wait. */
export function mergeBounds(base: UpstreamBounds, call: UpstreamBounds): UpstreamBounds {
  return { ...base, ...call };
}

export type UpstreamWait = 'firstToken' | 'idle';

/** The error of a wait over its bound: retryable, `during` as far as the call got. */
export function upstreamTimeoutError(provider: string, wait: UpstreamWait, bound: number, during: 'request' | 'stream'): ProviderError {
  const detail =
    wait === 'firstToken'
      ? `no answer within ${bound} ms of the request (first-token timeout)`
      : `the stream stalled: nothing for ${bound} ms since the last event (idle timeout)`;
  return new ProviderError({ provider, type: 'timeout', code: 'upstream_timeout', during, detail });
}

export interface UpstreamWatch {
  /** An event of the provider's stream arrived. */
  event(): void;
  /** The consumer asked to wait (after an event): the idle wait stops until {@link resume}. */
  pause(): void;
  /** The consumer reads on: the idle wait starts afresh. */
  resume(): void;
  /** The call ended: no more timeouts. */
  stop(): void;
}

/**
 * Starts the first-token wait at once; `event()` ends it and starts the idle waits. A stream of many events costs
 * one clock read per event: the idle timer is armed once and, when it fires, re-armed for what is left of the
 * bound since the last event (rescheduling a timer per token costs more than the tokens of a fast stream).
 */
export function watchUpstream(bounds: UpstreamBounds, onTimeout: (wait: UpstreamWait, bound: number) => void, scheduler: SchedulerLike = asyncScheduler): UpstreamWatch {
  const { firstTokenMs, idleMs } = bounds;
  let timer: Subscription | undefined;
  let lastEvent: number | undefined;
  let stopped = false;
  const arm = (delay: number) => {
    timer = scheduler.schedule(check, delay);
  };
  const check = () => {
    timer = undefined;
    if (stopped) return;
    if (lastEvent === undefined) {
      stopped = true;
      onTimeout('firstToken', firstTokenMs!);
      return;
    }
    const left = lastEvent + idleMs! - scheduler.now();
    if (left > 0) {
      arm(left);
      return;
    }
    stopped = true;
    onTimeout('idle', idleMs!);
  };
  if (firstTokenMs !== undefined) arm(firstTokenMs);
  return {
    event: () => {
      if (stopped) return;
      const first = lastEvent === undefined;
      lastEvent = scheduler.now();
      if (!first) return;
      timer?.unsubscribe();
      timer = undefined;
      if (idleMs !== undefined) arm(idleMs);
    },
    pause: () => {
      timer?.unsubscribe();
      timer = undefined;
    },
    resume: () => {
      if (stopped || timer !== undefined || lastEvent === undefined || idleMs === undefined) return;
      lastEvent = scheduler.now();
      arm(idleMs);
    },
    stop: () => {
      stopped = true;
      timer?.unsubscribe();
      timer = undefined;
    },
  };
}
