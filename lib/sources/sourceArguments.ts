// Internal: argument checks and message text shared by the provider sources.
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { assertDemand, assertKnownKeys, describeValue } from '../internal/validateOptions.js';
import type { ChatMessage, SourceOptions } from '../core/types.js';

export const SOURCE_OPTION_KEYS = ['usage', 'task', 'signal', 'timeout', 'demand'] as const;

/** The options of a provider source: known keys, and a demand that has ready() (the rest is checked where used). */
export function assertSourceOptions(owner: string, options: SourceOptions): void {
  assertKnownKeys(owner, options, SOURCE_OPTION_KEYS);
  assertDemand(owner, 'options.demand', options.demand);
}

export function assertClient(owner: string, client: unknown, method: string, lookup: () => unknown): void {
  let found: unknown;
  try {
    found = client === null || typeof client !== 'object' ? undefined : lookup();
  } catch {
    found = undefined;
  }
  if (typeof found !== 'function') {
    throw new InvalidOptionError('client', client, `${owner}: client must be an SDK client with ${method}(), got ${describeValue(client)}`);
  }
}

export function assertParams(owner: string, params: unknown, list: 'messages' | 'input'): void {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw new InvalidOptionError('params', params, `${owner}: params must be an object with model and ${list}, got ${describeValue(params)}`);
  }
  const { model } = params as { model?: unknown };
  if (typeof model !== 'string' || model === '') {
    throw new InvalidOptionError('params.model', model, `${owner}: params.model must be a non-empty string, got ${describeValue(model)}`);
  }
  const entries = (params as Record<string, unknown>)[list];
  if (list === 'messages' ? !Array.isArray(entries) : !(Array.isArray(entries) || typeof entries === 'string')) {
    throw new InvalidOptionError(`params.${list}`, entries, `${owner}: params.${list} must be ${list === 'messages' ? 'an array' : 'a string or an array'}, got ${describeValue(entries)}`);
  }
}

/** The text of each message, for the usage estimate (structured content parts contribute their text parts). */
export function textMessages(messages: unknown): ChatMessage[] {
  if (typeof messages === 'string') return [{ role: 'user', content: messages }];
  if (!Array.isArray(messages)) return [];
  return messages.map((message: unknown) => {
    const { role, content } = (message ?? {}) as { role?: unknown; content?: unknown };
    return { role: typeof role === 'string' ? role : 'user', content: contentText(content) };
  });
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) => {
      const { text } = (part ?? {}) as { text?: unknown };
      return typeof text === 'string' ? text : '';
    })
    .join('');
}
