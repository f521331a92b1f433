import { GuardrailError } from './GuardrailError.js';

/**
 * Thrown when an operator, rail or helper is created with an option it cannot work with.
 *
 * A bad option is a programming error, so it is thrown where the factory is called, never sent as an error
 * notification. `option` names the option as the caller wrote it, `value` is what was given.
 *
 * ## Example
 * ```ts
 * import { bufferChunks, InvalidOptionError } from 'rxguardrails';
 *
 * try {
 *   bufferChunks({ chunkSize: 0 });
 * } catch (error) {
 *   if (InvalidOptionError.isInstance(error)) console.log(error.option); // 'chunkSize'
 * }
 * ```
 */
export class InvalidOptionError extends GuardrailError {
  static override readonly marker: symbol = Symbol.for('rxguardrails.error.InvalidOptionError');

  override name = 'InvalidOptionError';

  /**
   * @param option The option's name, e.g. `chunkSize`.
   * @param value The value that was given.
   * @param message The whole message, saying what was expected and what was given.
   */
  constructor(
    readonly option: string,
    readonly value: unknown,
    message: string,
  ) {
    super(message);
  }
}
