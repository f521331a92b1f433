import { GuardrailError } from './GuardrailError.js';

/**
 * Thrown by `LLMRails.stream` / `streamAsync` when the config has output rails but
 * `rails.output.streaming.enabled` is not true: the rails could only check the answer once it is complete, which
 * is not streaming. The message is NeMo Guardrails' own, word for word.
 */
export class StreamingNotSupportedError extends GuardrailError {
  static override readonly marker: symbol = Symbol.for('rxguardrails.error.StreamingNotSupportedError');

  override name = 'StreamingNotSupportedError';

  constructor() {
    super(
      'stream_async() cannot be used when output rails are configured but rails.output.streaming.enabled is False. ' +
        'Either set rails.output.streaming.enabled to True in your configuration, or use generate_async() instead of stream_async().',
    );
  }
}
