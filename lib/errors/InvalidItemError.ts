import { GuardrailError } from './GuardrailError.js';

/**
 * Sent as the error notification when a stream that must carry text delivers something else.
 *
 * Output rails read the concatenated text of stream items, so every item must be a string; a number, an object
 * such as an SDK chunk or `undefined` means the source was not mapped to text. The error names the operator, the
 * item's position and what it was.
 *
 * ## Example
 * ```ts
 * import { of } from 'rxjs';
 * import { guard, keywordRail, InvalidItemError } from 'rxguardrails';
 *
 * of('ok', 42 as unknown as string).pipe(guard([keywordRail(['secret'])])).subscribe({
 *   error: (error) => InvalidItemError.isInstance(error) && console.log(error.index), // 1
 * });
 * ```
 */
export class InvalidItemError extends GuardrailError {
  static override readonly marker: symbol = Symbol.for('rxguardrails.error.InvalidItemError');

  override name = 'InvalidItemError';

  /**
   * @param operator The operator that received the item.
   * @param index Zero-based position of the item in the stream.
   * @param item The offending item.
   */
  constructor(
    readonly operator: string,
    readonly index: number,
    readonly item: unknown,
  ) {
    super(
      `${operator} expects string items, but item ${index} is ${describe(item)}. ` +
        'Map the source to text first, e.g. map((chunk) => chunk.text).',
    );
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'object':
      return 'an object';
    case 'number':
    case 'bigint':
    case 'boolean':
      return `a ${typeof value} (${String(value)})`;
    default:
      return `a ${typeof value}`;
  }
}
