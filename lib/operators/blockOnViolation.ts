import { Observable, type OperatorFunction, type Subscriber } from 'rxjs';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { RailViolationError } from '../errors/RailViolationError.js';
import { assertKnownKeys, assertOneOf, assertOptionsObject, assertString } from '../internal/validateOptions.js';
import type { CheckedBatch } from './checkRail.js';
import { UpstreamSubscriber } from './UpstreamSubscriber.js';

/** NeMo's refusal text, used by `mode: 'replace'` unless another `replacement` is given. */
export const DEFAULT_REPLACEMENT = "I'm sorry, I can't respond to that.";

/** Options of {@link blockOnViolation}. */
export interface BlockOnViolationOptions {
  /**
   * How a violation reaches the subscriber:
   * - `'error'`: the stream errors with {@link RailViolationError};
   * - `'chunk'`: NeMo's error payload is emitted as one last item (`{"error": {"message": "Blocked by <rail>
   *   rails.", ...}}`, byte-identical to NeMo's), then the stream completes;
   * - `'replace'`: `replacement` is emitted as one last item, then the stream completes.
   * @default 'error'
   */
  readonly mode?: 'error' | 'chunk' | 'replace';
  /**
   * The text `mode: 'replace'` emits instead of the rest of the answer. Only valid with that mode.
   * @default "I'm sorry, I can't respond to that."
   */
  readonly replacement?: string;
}

/** The validated settings of blockOnViolation, shared with guard. */
export interface ViolationSettings {
  readonly mode: 'error' | 'chunk' | 'replace';
  readonly replacement: string;
}

export const VIOLATION_OPTION_KEYS = ['mode', 'replacement'] as const;

/** Validates blockOnViolation's options for `owner`. */
export function resolveViolationSettings(owner: string, options: BlockOnViolationOptions): ViolationSettings {
  assertOptionsObject(owner, options);
  const { mode = 'error', replacement } = options;
  assertOneOf(owner, 'mode', mode, ['error', 'chunk', 'replace'] as const);
  if (replacement !== undefined) {
    assertString(owner, 'replacement', replacement);
    if (mode !== 'replace') {
      throw new InvalidOptionError(
        'replacement',
        replacement,
        `${owner}: replacement is only used with mode 'replace' (mode is '${mode}'); set mode: 'replace' or drop it`,
      );
    }
  }
  return { mode, replacement: replacement ?? DEFAULT_REPLACEMENT };
}

/**
 * Releases the text of checked windows and stops the stream at the first blocked one.
 *
 * After a window passes, every item it holds is released except its last `overlap` items, which the next window
 * checks again: they wait for that window (or for the source to complete). So no item is released before every
 * window containing it has passed, and nothing of a blocked window is ever released. Items are released one by
 * one, as the source emitted them.
 *
 * ```
 * source:  ---a---b---c---|         (a, b pass; c is blocked)
 * result:  ---x---y---#             x, y = released items, # = RailViolationError (mode 'error')
 * ```
 *
 * - On a blocked window the source is unsubscribed at once (so the upstream LLM request is aborted) and the
 *   violation is signalled per `mode`: an error, NeMo's payload as a last item, or a replacement text.
 * - On completion, the items still held back are released, then it completes.
 * - Source errors pass through; held items are then dropped.
 *
 * ## Example
 * ```ts
 * import { from } from 'rxjs';
 * import { blockOnViolation, bufferChunks, checkRail, keywordRail } from 'rxguardrails';
 *
 * from(['Our ', 'secret ', 'plan']).pipe(
 *   bufferChunks({ chunkSize: 2, contextSize: 1 }),
 *   checkRail([keywordRail(['secret'])]),
 *   blockOnViolation({ mode: 'chunk' }),
 * ).subscribe((text) => console.log(text));
 * // {"error": {"message": "Blocked by keyword rails.", "type": "guardrails_violation", "param": "keyword", "code": "content_blocked"}}
 * ```
 *
 * @param options `mode` (default 'error') and `replacement` (only with mode 'replace').
 */
export function blockOnViolation(options: BlockOnViolationOptions = {}): OperatorFunction<CheckedBatch, string> {
  assertKnownKeys('blockOnViolation', options, VIOLATION_OPTION_KEYS);
  return releaseOrBlock(resolveViolationSettings('blockOnViolation', options));
}

/** blockOnViolation with validated settings. Hand-written: it releases tokens one by one, on the hot path. */
export function releaseOrBlock(settings: ViolationSettings): OperatorFunction<CheckedBatch, string> {
  return (source) => new Observable<string>((destination) => new SettlingSubscriber(destination, settings).subscribeTo(source));
}

class SettlingSubscriber extends UpstreamSubscriber<CheckedBatch, string> {
  /** Items of passed windows that the next window checks again. */
  private held: readonly string[] = [];

  constructor(
    destination: Subscriber<string>,
    private readonly settings: ViolationSettings,
  ) {
    super(destination);
  }

  next(batch: CheckedBatch): void {
    if (this.closed) return;
    if (batch.blocked) {
      signalViolation(this.destination, batch, this.settings);
      return;
    }
    // Everything held and new is released except the last `overlap` items, oldest first.
    const { held, destination } = this;
    const { chunks } = batch;
    let release = held.length + chunks.length - Math.min(batch.overlap, held.length + chunks.length);
    let position = 0;
    for (; position < held.length && release > 0 && !this.closed; position++, release--) destination.next(held[position]!);
    if (position < held.length) {
      this.held = held.slice(position).concat(chunks);
      return;
    }
    for (let fresh = 0; fresh < release && !this.closed; fresh++) destination.next(chunks[fresh]!);
    this.held = release === 0 ? chunks : chunks.slice(release);
  }

  protected override onComplete(): void {
    for (const item of this.held) {
      if (this.closed) return;
      this.destination.next(item);
    }
    this.destination.complete();
  }
}

/**
 * Signals the violation of a blocked window per mode. Ending the destination unsubscribes the source at once,
 * which is what stops the upstream LLM request.
 */
export function signalViolation(destination: Subscriber<string>, batch: CheckedBatch, settings: ViolationSettings): void {
  const verdict = batch.blocked!;
  const error = new RailViolationError({ rail: verdict.rail, batchIndex: batch.index, verdict });
  if (settings.mode === 'error') {
    destination.error(error);
    return;
  }
  destination.next(settings.mode === 'chunk' ? error.toChunk() : settings.replacement);
  destination.complete();
}
