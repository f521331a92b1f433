// Internal: YAML files of a config folder, merged by NeMo Guardrails' rules, with the way back from any key of the
// merged config to the file, line and column it came from.
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError, type ConfigIssue } from '../errors/ConfigError.js';

export interface ConfigSource {
  /** Shown in messages: a path relative to the config folder, or `<content>` / `<object>`. */
  readonly file: string;
  readonly data: Record<string, unknown>;
  readonly document?: Document;
  readonly lineCounter?: LineCounter;
}

export type KeyPath = readonly (string | number)[];

/** Parses one YAML text; a syntax error, or a root that is not a mapping, is a ConfigError. */
export function parseYamlSource(file: string, text: string): ConfigSource {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const [error] = document.errors;
  if (error) {
    const [start] = error.linePos ?? [];
    throw new ConfigError([{ file, line: start?.line, column: start?.col, message: `YAML syntax error: ${firstLine(error.message).replace(/ at line \d+, column \d+:?$/, '')}` }]);
  }
  let data: unknown;
  try {
    data = document.toJS() ?? {};
  } catch (error) {
    // The yaml library refuses to expand aliases past a bound (a "billion laughs" file): a ConfigError like any other.
    throw new ConfigError([{ file, message: `the file's aliases expand too far to be read (${firstLine(error instanceof Error ? error.message : String(error))})` }], { cause: error });
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError([{ file, line: 1, column: 1, message: 'the file must hold a mapping of keys (models, rails, prompts, ...)' }]);
  }
  return { file, data: data as Record<string, unknown>, document, lineCounter };
}

/** Lists from every file are concatenated; these mappings are merged key by key; other keys: the last file wins. */
const CONCATENATED = new Set(['models', 'prompts', 'instructions', 'flows', 'docs']);
const MERGED = new Set(['user_messages', 'bot_messages', 'sensitive_data_detection']);

export interface MergedConfig {
  readonly data: Record<string, unknown>;
  /** Where a key path of the merged config comes from: the source and the path inside it. */
  origin(path: KeyPath): { source: ConfigSource; path: KeyPath } | undefined;
}

export function mergeSources(sources: readonly ConfigSource[]): MergedConfig {
  const data: Record<string, unknown> = {};
  /** The last file that gave each top-level key. */
  const whole = new Map<string, ConfigSource>();
  const elements = new Map<string, { source: ConfigSource; index: number }[]>();
  const entries = new Map<string, Map<string, ConfigSource>>();
  for (const source of sources) {
    for (const [key, value] of Object.entries(source.data)) {
      if (CONCATENATED.has(key) && Array.isArray(value)) {
        data[key] = [...((data[key] as unknown[] | undefined) ?? []), ...value];
        whole.set(key, source);
        elements.set(key, [...(elements.get(key) ?? []), ...value.map((_, index) => ({ source, index }))]);
      } else if (MERGED.has(key) && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        data[key] = { ...((data[key] as object | undefined) ?? {}), ...value };
        whole.set(key, source);
        const owners = entries.get(key) ?? new Map<string, ConfigSource>();
        for (const entry of Object.keys(value)) owners.set(entry, source);
        entries.set(key, owners);
      } else {
        data[key] = value;
        whole.set(key, source);
        elements.delete(key);
      }
    }
  }
  return {
    data,
    origin: (path) => {
      const [top, next, ...rest] = path;
      if (typeof top !== 'string') return sources.length === 1 ? { source: sources[0]!, path } : undefined;
      const element = typeof next === 'number' ? elements.get(top)?.[next] : undefined;
      if (element) return { source: element.source, path: [top, element.index, ...rest] };
      const owner = typeof next === 'string' ? entries.get(top)?.get(next) : undefined;
      if (owner) return { source: owner, path };
      const source = whole.get(top) ?? (sources.length === 1 ? sources[0] : undefined);
      // A concatenated or merged key's position in the merged config is not its position in any one file.
      return source ? { source, path: CONCATENATED.has(top) || MERGED.has(top) ? [top] : path } : undefined;
    },
  };
}

/** An issue at a key path of the merged config, placed in its file; `onKey`: at the key itself, not its value. */
export function issueAt(merged: MergedConfig, fallbackFile: string, path: KeyPath, message: string, onKey = false): ConfigIssue {
  const key = formatKey(path);
  const found = merged.origin(path);
  if (!found) return { file: fallbackFile, key, message };
  const place = position(found.source, found.path, onKey);
  return { file: found.source.file, line: place?.line, column: place?.column, key: key || undefined, message };
}

function position(source: ConfigSource, path: KeyPath, onKey: boolean): { line: number; column: number } | undefined {
  const { document, lineCounter } = source;
  if (!document || !lineCounter) return undefined;
  for (let length = path.length; length >= 0; length--) {
    const prefix = path.slice(0, length);
    if (onKey && length === path.length && length > 0) {
      const parent = length === 1 ? document.contents : document.getIn(prefix.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === prefix.at(-1));
        const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
        if (range) return linePos(lineCounter, range[0]);
      }
    }
    const node = length === 0 ? document.contents : document.getIn(prefix, true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return linePos(lineCounter, range[0]);
  }
  return undefined;
}

function linePos(lineCounter: LineCounter, offset: number): { line: number; column: number } {
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

/** `rails.output.flows[1]` */
export function formatKey(path: KeyPath): string {
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`)).join('');
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}
