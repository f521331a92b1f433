// Internal: the ChatModel shape every provider's model factory returns.
import type { Observable } from 'rxjs';
import type { ChatMessage, ChatModel, SourceOptions } from '../core/types.js';
import { upstreamBounds } from '../sources/upstreamTimeout.js';
import { splitCallOptions } from './splitCallOptions.js';

/**
 * A provider's ChatModel: its model-wide `timeout` checked now, and each call's options split by
 * {@link splitCallOptions} before `call` sends the messages with the parameters (the model's own laid under them by
 * `call`) to the provider's source.
 */
export function providerModel(
  owner: string,
  { provider, model, timeout }: { provider: string; model: string; timeout: SourceOptions['timeout'] },
  call: (messages: readonly ChatMessage[], parameters: Record<string, unknown>, source: SourceOptions) => Observable<string>,
): ChatModel {
  const bounds = upstreamBounds(owner, timeout);
  return {
    provider,
    model,
    stream: (messages, callOptions = {}) => {
      const { source, parameters } = splitCallOptions(owner, callOptions, bounds);
      return call(messages, parameters, source);
    },
  };
}
