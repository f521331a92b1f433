/**
 * Base class of every error rxguardrails raises on purpose.
 *
 * Each class carries a `Symbol.for('rxguardrails.error.<Name>')` marker, so `isInstance()` also recognises errors
 * created by another copy of the package (the ESM and the CommonJS build loaded side by side, or two versions in
 * one bundle), where `instanceof` fails.
 *
 * ## Example
 * ```ts
 * import { GuardrailError, RailViolationError } from 'rxguardrails';
 *
 * guarded$.subscribe({
 *   error: (error) => {
 *     if (RailViolationError.isInstance(error)) console.log('blocked by', error.info.rail);
 *     else if (GuardrailError.isInstance(error)) console.log('guardrails:', error.message);
 *   },
 * });
 * ```
 */
export class GuardrailError extends Error {
  /** The cross-copy marker of this class; every subclass declares its own. */
  static readonly marker: symbol = Symbol.for('rxguardrails.error.GuardrailError');

  override name = 'GuardrailError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    // Mark the instance with the marker of every class in its chain, so `Parent.isInstance(child)` holds.
    for (let type: unknown = new.target; typeof type === 'function' && type !== Error; type = Object.getPrototypeOf(type)) {
      if (Object.prototype.hasOwnProperty.call(type, 'marker')) {
        Object.defineProperty(this, (type as unknown as { marker: symbol }).marker, { value: true });
      }
    }
  }

  /**
   * Whether `value` is an instance of this class (or a subclass), from any copy of the package.
   * @param value Anything, typically a caught error.
   */
  static isInstance<T extends abstract new (...args: never[]) => GuardrailError>(
    this: T & { readonly marker: symbol },
    value: unknown,
  ): value is InstanceType<T> {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[this.marker] === true;
  }
}
