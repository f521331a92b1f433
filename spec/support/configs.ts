// LLMRails configs for specs, built as objects in NeMo's config.yml shape (snake_case keys, as in the YAML) and
// loaded with RailsConfig.fromContent(object): no indentation to get wrong, no ${} inside YAML. A spec whose point
// is the YAML text itself (line and column in an error) keeps it in a fixture folder, spec/fixtures/configs-llm.
import { RailsConfig, type RailsConfigOptions } from 'rxguardrails';

/** One entry of `models`. */
export interface ModelEntry {
  readonly type?: string;
  readonly engine: 'scripted' | 'openai' | 'anthropic';
  readonly model?: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
}

/** `rails.output.streaming`. */
export interface OutputStreamingEntry {
  readonly enabled?: boolean;
  readonly chunk_size?: number;
  readonly context_size?: number;
  readonly first_chunk_size?: number;
  readonly concurrency?: number;
  readonly stream_first?: boolean;
  readonly on_violation?: 'error' | 'chunk' | 'replace';
}

/** One entry of `prompts`. */
export interface PromptEntry {
  readonly task: string;
  readonly content: string;
}

/** The parts of config.yml these specs use. */
export interface ConfigContent {
  readonly models?: readonly ModelEntry[];
  readonly streaming?: boolean;
  readonly rails?: {
    readonly input?: { readonly flows: readonly string[] };
    readonly output?: { readonly flows: readonly string[]; readonly parallel?: boolean; readonly streaming?: OutputStreamingEntry };
    readonly config?: { readonly keyword_check?: { readonly keywords: readonly string[] } };
  };
  readonly prompts?: readonly PromptEntry[];
}

/** Loads a config object, as `RailsConfig.fromContent` would load the same YAML. */
export function configOf(content: ConfigContent, options?: RailsConfigOptions): RailsConfig {
  return RailsConfig.fromContent(content as Readonly<Record<string, unknown>>, options);
}

/** A model of engine scripted that answers `responses` in turn, one word at a time (`delay_ms` apart). */
export function scriptedEngine(responses: readonly string[], options: { type?: string; model?: string; delayMs?: number } = {}): ModelEntry {
  const { type = 'main', model, delayMs } = options;
  return {
    type,
    engine: 'scripted',
    ...(model === undefined ? {} : { model }),
    parameters: { responses, ...(delayMs === undefined ? {} : { delay_ms: delayMs }) },
  };
}

/** `rails.config.keyword_check` for these keywords. */
export function keywordCheck(...keywords: string[]): { readonly keyword_check: { readonly keywords: readonly string[] } } {
  return { keyword_check: { keywords } };
}
