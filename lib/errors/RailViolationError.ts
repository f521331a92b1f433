import { pythonJsonDumps } from '../internal/pythonJson.js';
import type { RailVerdict } from '../core/types.js';
import { GuardrailError } from './GuardrailError.js';

/** Where and why a guarded stream was stopped. */
export interface RailViolationInfo {
  /** Name of the rail that blocked (or failed, when `verdict.kind` is `'internal_error'`). */
  readonly rail: string;
  /** Index of the window that was blocked. */
  readonly batchIndex: number;
  readonly verdict: RailVerdict;
  /**
   * NeMo's exception for this block, when the config sets `enable_rails_exceptions` (an input rail's block, or an
   * output rail's on a whole answer): its `type` (`ContentSafetyCheckInputException`, `InputRailException`, ...) and
   * `message`, which is then the error's message too.
   */
  readonly exception?: RailException;
}

/** NeMo's exception-style report of a block (`{"role": "exception", "content": {"type", "message", ...}}`). */
export interface RailException {
  readonly type: string;
  readonly message: string;
}

/** NeMo Guardrails' in-band error object, as its streaming API and OpenAI-compatible server send it. */
export interface GuardrailsErrorPayload {
  readonly error: {
    readonly message: string;
    readonly type: 'guardrails_violation' | 'internal_error';
    readonly param: string;
    readonly code: 'content_blocked' | 'rail_execution_failure';
  };
}

/**
 * The error a guarded stream ends with when a rail blocks a window (or a rail fails and fails closed).
 *
 * `info` says which rail, which window and the verdict; `toJSON()` gives NeMo's error payload and `toChunk()` the
 * exact text NeMo streams for it, so the error can be forwarded to clients written for NeMo.
 *
 * ## Example
 * ```ts
 * import { of } from 'rxjs';
 * import { guard, keywordRail, RailViolationError } from 'rxguardrails';
 *
 * of('the secret ', 'is out').pipe(guard([keywordRail(['secret'])], { chunkSize: 2, contextSize: 1 })).subscribe({
 *   error: (error) => {
 *     if (RailViolationError.isInstance(error)) console.log(error.message, error.info.batchIndex);
 *     // Blocked by keyword rails. 0
 *   },
 * });
 * ```
 */
export class RailViolationError extends GuardrailError {
  static override readonly marker: symbol = Symbol.for('rxguardrails.error.RailViolationError');

  override name = 'RailViolationError';

  constructor(readonly info: RailViolationInfo) {
    super(
      info.verdict.kind === 'internal_error'
        ? `Internal error in ${info.rail} rail: ${info.verdict.reason ?? 'unknown error'}`
        : (info.exception?.message ?? `Blocked by ${info.rail} rails.`),
      info.verdict.kind === 'internal_error' ? { cause: info.verdict.error } : undefined,
    );
  }

  /** NeMo's error payload for this violation (`guardrails_violation`) or rail failure (`internal_error`). */
  toJSON(): GuardrailsErrorPayload {
    const failed = this.info.verdict.kind === 'internal_error';
    return {
      error: {
        message: this.message,
        type: failed ? 'internal_error' : 'guardrails_violation',
        param: this.info.rail,
        code: failed ? 'rail_execution_failure' : 'content_blocked',
      },
    };
  }

  /** The payload as NeMo streams it: Python `json.dumps` text, byte for byte. */
  toChunk(): string {
    return pythonJsonDumps(this.toJSON());
  }
}
