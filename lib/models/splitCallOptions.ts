// Internal: a model call's options are the source options plus provider parameters.
import type { Observable } from 'rxjs';
import type { ChatMessage, ChatModel, ChatModelCallOptions, SourceOptions } from '../core/types.js';
import { mergeBounds, type UpstreamBounds, upstreamBounds } from '../sources/upstreamTimeout.js';

/**
 * The source options and the request parameters of one call. The call's `timeout` is laid over the model's
 * `bounds` wait by wait (so `{ idleMs }` keeps the model's first-token bound); it is checked here, on the call.
 */
export function splitCallOptions(
  owner: string,
  options: ChatModelCallOptions,
  bounds: UpstreamBounds = {},
): { source: SourceOptions; parameters: Record<string, unknown> } {
  const { usage, task, signal, timeout, demand, ...parameters } = options;
  const merged = mergeBounds(bounds, upstreamBounds(`${owner}.stream`, timeout));
  return { source: { usage, task, signal, demand, ...(Object.keys(merged).length > 0 ? { timeout: merged } : {}) }, parameters };
}

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
