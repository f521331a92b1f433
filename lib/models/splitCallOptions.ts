// Internal: a model call's options are the source options plus provider parameters.
import type { ChatModelCallOptions, SourceOptions } from '../core/types.js';

export function splitCallOptions(options: ChatModelCallOptions): { source: SourceOptions; parameters: Record<string, unknown> } {
  const { usage, task, signal, ...parameters } = options;
  return { source: { usage, task, signal }, parameters };
}
