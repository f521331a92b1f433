// Internal: a model call's options are the source options plus provider parameters.
import type { ChatModelCallOptions, SourceOptions } from '../core/types.js';
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
