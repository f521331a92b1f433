import type * as z from 'zod/mini';
import type { OutputRail } from '../core/types.js';
import { ConfigError, type ConfigIssue, formatConfigIssue } from '../errors/ConfigError.js';
import { brand, hasBrand } from '../internal/brand.js';
import { describeValue } from '../internal/validateOptions.js';
import { railNamed } from '../rails/defineRail.js';
import { type ConfigSource, formatKey, issueAt, type KeyPath, type MergedConfig, mergeSources, parseYamlSource } from './configSources.js';
import { builtInFlow, FLOWS, flowParameterProblem, judgeTask, parseFlow, rewriteProblem, ruleSettingIssue } from './flows.js';
import { type ModelConfig, type PromptConfig, type RailsConfigData, railsConfigSchema } from './railsConfigSchema.js';

/** Custom rails by flow name: rail objects, or check functions (named after their flow). */
export type CustomRails = Readonly<Record<string, OutputRail | OutputRail['check']>>;

/** Options of {@link RailsConfig.fromContent}. */
export interface RailsConfigOptions {
  /** Rails for flow names of your own (in a folder: what its rails.js / rails.mjs exports). */
  readonly rails?: CustomRails;
  /**
   * Receives each warning (unknown keys, which are ignored).
   * @default console.warn
   */
  readonly onWarning?: (warning: ConfigIssue) => void;
  /**
   * The name messages give the content.
   * @default '<content>'
   */
  readonly file?: string;
}

/**
 * A guardrails configuration, in NeMo Guardrails' `config.yml` format (snake_case keys): models, `streaming`,
 * `rails.input` / `rails.output` flows, `rails.output.streaming` windows, prompts, and the settings of the keyword
 * and regex rails.
 *
 * Validated once, when loaded, by one zod schema. Problems throw {@link ConfigError} naming file, line, column and
 * key; unknown keys (NeMo settings rxguardrails does not use, typos) are reported as warnings and ignored.
 * `fromContent` takes YAML text or an object and works anywhere; `RailsConfig.fromPath` (from
 * `rxguardrails/node`) reads a folder, merging its YAML files as NeMo does and loading its `rails.js`.
 *
 * ## Example
 * ```ts
 * import { LLMRails, RailsConfig } from 'rxguardrails';
 *
 * const config = RailsConfig.fromContent(`
 * models:
 *   - type: main
 *     engine: scripted
 *     parameters: { responses: ["Hello there!"] }
 * rails:
 *   output:
 *     flows: [keyword check]
 *     streaming: { enabled: True, chunk_size: 10, context_size: 2 }
 *   config:
 *     keyword_check: { keywords: [password] }
 * `);
 * const rails = new LLMRails(config);
 * ```
 */
export class RailsConfig {
  static {
    brand(this, 'RailsConfig');
  }

  /** Whether `value` is a RailsConfig, from any copy of the package (ESM and CommonJS builds alike). */
  static isInstance(value: unknown): value is RailsConfig {
    return hasBrand(value, 'RailsConfig');
  }

  /** Use RailsConfig.fromContent or (Node) RailsConfig.fromPath. */
  protected constructor(
    /** The validated config, defaults applied. */
    readonly data: RailsConfigData,
    /** Rails of flows of your own, by flow name. */
    readonly customRails: Readonly<Record<string, OutputRail>>,
    /** What was ignored (unknown keys). */
    readonly warnings: readonly ConfigIssue[],
    /** The files (or `<content>`) it was read from. */
    readonly files: readonly string[],
    private readonly merged: MergedConfig,
  ) {}

  /**
   * Reads a config from YAML text or an object (browser-safe).
   * @throws ConfigError with file, line, column and key.
   */
  static fromContent(content: string | Readonly<Record<string, unknown>>, options: RailsConfigOptions = {}): RailsConfig {
    const file = options.file ?? (typeof content === 'string' ? '<content>' : '<object>');
    if (typeof content === 'string') return RailsConfig.fromSources([parseYamlSource(file, content)], options);
    if (content === null || typeof content !== 'object' || Array.isArray(content)) {
      throw new ConfigError([{ file, message: `the config must be YAML text or an object, got ${describeValue(content)}` }]);
    }
    return RailsConfig.fromSources([{ file, data: { ...content } }], options);
  }

  /**
   * Merges and validates parsed sources. Used by `fromContent` and by the Node entry's `fromPath`.
   * @internal
   */
  static fromSources(sources: readonly ConfigSource[], options: RailsConfigOptions = {}): RailsConfig {
    const merged = mergeSources(sources);
    const fallbackFile = sources.at(-1)?.file ?? '<content>';
    const issue = (path: KeyPath, message: string, onKey = false) => issueAt(merged, fallbackFile, path, message, onKey);

    // Unknown keys are collected as warnings, dropped, and the rest validated again.
    const warnings: ConfigIssue[] = [];
    let input: Record<string, unknown> = merged.data;
    let result = railsConfigSchema.safeParse(input);
    const unknown = result.success ? [] : result.error.issues.filter((entry) => entry.code === 'unrecognized_keys');
    if (!result.success && unknown.length > 0) {
      for (const entry of unknown) {
        for (const key of (entry as z.core.$ZodIssueUnrecognizedKeys).keys) {
          warnings.push(issue([...pathOf(entry.path), key], `unknown key, ignored${hint(key)}`, true));
        }
      }
      input = withoutKeys(input, unknown.map((entry) => ({ path: pathOf(entry.path), keys: (entry as z.core.$ZodIssueUnrecognizedKeys).keys })));
      result = railsConfigSchema.safeParse(input);
    }
    if (!result.success) {
      throw new ConfigError(result.error.issues.map((entry) => issue(pathOf(entry.path), describeIssue(entry))));
    }
    const data = result.data;

    const problems = [...flowProblems(data, issue, warnings), ...ruleSettingProblems(data, issue)];
    if (problems.length > 0) throw new ConfigError(problems);

    const customRails: Record<string, OutputRail> = {};
    for (const [name, rail] of Object.entries(options.rails ?? {})) {
      customRails[name] = railNamed(name, rail);
    }
    const onWarning = options.onWarning ?? ((warning: ConfigIssue) => console.warn(`rxguardrails: ${formatConfigIssue(warning)}`));
    warnings.forEach(onWarning);
    return new RailsConfig(data, customRails, warnings, sources.map((source) => source.file), merged);
  }

  /**
   * Whether the main model streams: unless the config says `streaming: False`. NeMo v0.20+ ignores the key and streams
   * whenever asked to, and its configs omit it; `streaming: False` still asks for the answer as one chunk.
   */
  get streaming(): boolean {
    return this.data.streaming !== false;
  }

  get models(): readonly ModelConfig[] {
    return this.data.models;
  }

  /** The model entry of a type (`main`, `self_check_output`, ...), if the config has one. */
  model(type: string): ModelConfig | undefined {
    return this.data.models.find((model) => model.type === type);
  }

  /** The prompt of a task, preferring one restricted to this engine or engine/model. */
  prompt(task: string, model?: ModelConfig): PromptConfig | undefined {
    const candidates = this.data.prompts.filter((prompt) => prompt.task === task);
    const id = model ? [model.engine, `${model.engine}/${model.model ?? ''}`] : [];
    // When no prompt's models list names the model, NeMo still takes the best of them (all score alike: the later).
    return candidates.find((prompt) => prompt.models?.some((entry) => id.includes(entry))) ?? candidates.find((prompt) => !prompt.models) ?? candidates.at(-1);
  }

  /** Where a key of the config is, for problems found after loading (a missing API key, an unknown flow). */
  issue(path: KeyPath, message: string): ConfigIssue {
    return issueAt(this.merged, this.files.at(-1) ?? '<content>', path, message);
  }

  /** The key path as messages print it. */
  static formatKey(path: KeyPath): string {
    return formatKey(path);
  }
}

type Place = (path: KeyPath, message: string) => ConfigIssue;

/**
 * What the built-in flows of the config need and do not have: parameters they take, prompts, rule settings, output
 * parsers. A content-safety prompt without `output_parser` is a warning (added to `warnings`).
 */
function flowProblems(data: RailsConfigData, issue: Place, warnings: ConfigIssue[]): ConfigIssue[] {
  const problems: ConfigIssue[] = [];
  const warned = new Set<number>();
  /** The prompts a flow with parsers reads: their output_parser is checked against that flow's. */
  const judged = new Set<number>();
  for (const side of ['input', 'output'] as const) {
    data.rails[side].flows.forEach((flow, index) => {
      const path = ['rails', side, 'flows', index];
      const definition = builtInFlow(flow);
      if (!definition) return; // a custom flow: its rail comes from rails.js or LLMRails({ rails })
      const parameterProblem = flowParameterProblem(flow);
      if (parameterProblem) problems.push(issue(path, parameterProblem));
      if (definition.kind !== 'judge') {
        if (definition.unsupported) {
          problems.push(issue(path, definition.unsupported));
        } else if (definition.side && definition.side !== side) {
          problems.push(issue(path, `flow '${flow}' is an ${definition.side} rail in NeMo: list it under rails.${definition.side}.flows`));
        } else if (!data.rails.config[definition.settings]) {
          problems.push(issue(path, `flow '${flow}' needs ${definition.needs}`));
        } else {
          const missing = definition.missing?.(data.rails.config);
          if (missing) problems.push(issue(path, missing.startsWith('flow ') ? missing : `flow '${flow}' ${missing}`));
        }
        const rewrite = definition.rewritesOutput ? rewriteProblem(data, side, `flow '${flow}'`) : undefined;
        if (rewrite) problems.push(issue(['rails', 'output', 'streaming', 'stream_first'], rewrite));
        return;
      }
      const { name, parameters } = parseFlow(flow);
      if (definition.side !== side) {
        problems.push(issue(path, `flow '${name}' is an ${definition.side} rail in NeMo: list it under rails.${definition.side}.flows`));
        return;
      }
      if (definition.modelParameter && definition.ownJudge && parameters.model === undefined) {
        // NeMo: "Model name is required for ... check, please provide it as an argument in the config.yml."
        problems.push(issue(path, `flow '${name}' needs its judge's model type: '${name} $model=<type>', the type of a models entry`));
        return;
      }
      const task = judgeTask(flow, definition);
      const prompts = data.prompts.flatMap((prompt, position) => (prompt.task === task ? [{ prompt, position }] : []));
      if (prompts.length === 0) {
        problems.push(
          issue(
            path,
            definition.ownJudge
              ? `Missing a \`${task}\` prompt template, which is required for the \`${name}\` rail.`
              : `You must provide a \`${task}\` prompt template. (flow '${flow}' needs a prompt with task: ${task})`,
          ),
        );
      }
      const { parsers } = definition;
      if (!parsers) return;
      for (const { prompt, position } of prompts) {
        judged.add(position);
        if (prompt.output_parser === undefined) {
          if (!warned.has(position)) {
            warned.add(position);
            warnings.push(
              issue(
                ['prompts', position, 'task'],
                `no output_parser: the judge of '${flow}' is read with ${parsers[0]} (NeMo would pass the raw answer on, which fails open); name one, e.g. output_parser: ${parsers[0]}`,
              ),
            );
          }
        } else if (!parsers.includes(prompt.output_parser)) {
          problems.push(issue(['prompts', position, 'output_parser'], `unknown output parser '${prompt.output_parser}' for the '${name}' rail; use one of ${parsers.join(', ')}`));
        }
      }
    });
  }
  // Prompts no built-in flow reads (dialog tasks of NeMo's) may name any of NeMo's parsers, but no other.
  const known = new Set([...NEMO_DIALOG_PARSERS, ...(FLOWS['content safety check input'].parsers ?? [])]);
  data.prompts.forEach((prompt, position) => {
    if (!judged.has(position) && prompt.output_parser !== undefined && !known.has(prompt.output_parser)) {
      problems.push(issue(['prompts', position, 'output_parser'], `unknown output parser '${prompt.output_parser}'; NeMo's are ${[...known].join(', ')}`));
    }
  });
  // A flow listed twice, or a prompt of two flows, is reported once.
  return [...new Map(problems.map((problem) => [`${problem.key}: ${problem.message}`, problem])).values()];
}

/** NeMo's output parsers for tasks rxguardrails has no flow of (dialog rails, tool checks): accepted, unused. */
const NEMO_DIALOG_PARSERS = ['user_intent', 'bot_intent', 'bot_message', 'verbose_v1', 'parse_tool_safety_verdict'];

/**
 * Rule settings (`rails.config.keyword_check`, `regex_check`, ...) the schema cannot judge: each present one is
 * built into its rail once, and what the rail's factory rejects (a pattern that does not compile, or that matches
 * the empty string) is placed at its key.
 */
function ruleSettingProblems(data: RailsConfigData, issue: Place): ConfigIssue[] {
  const problems: ConfigIssue[] = [];
  for (const [flow, definition] of Object.entries(FLOWS)) {
    if (definition.kind === 'judge') continue;
    try {
      definition.build(data.rails.config, flow);
    } catch (error) {
      const problem = ruleSettingIssue(issue, definition, error);
      // Flows sharing settings (detect and mask sensitive data on input) find the same problem once.
      if (!problems.some((other) => other.key === problem.key && other.message === problem.message)) problems.push(problem);
    }
  }
  return problems;
}

function pathOf(path: readonly PropertyKey[]): KeyPath {
  return path.map((part) => (typeof part === 'number' ? part : String(part)));
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    const { expected } = issue as z.core.$ZodIssueInvalidType;
    return issue.message.startsWith('Invalid input') ? `expected ${expected === 'array' ? 'a list' : expected === 'object' ? 'a mapping' : `a ${expected}`}` : issue.message;
  }
  return issue.message;
}

const RENAMED: Readonly<Record<string, string>> = {
  window_size: 'chunk_size (its name before NeMo v0.12)',
  look_back_size: 'context_size (its name before NeMo v0.12)',
  streamFirst: 'stream_first',
  chunkSize: 'chunk_size',
  contextSize: 'context_size',
  firstChunkSize: 'first_chunk_size',
};

/** NeMo Guardrails settings for features rxguardrails does not have (dialog rails, Colang, knowledge bases, ...). */
const NEMO_ONLY = new Set([
  'instructions', 'sample_conversation', 'colang_version', 'passthrough', 'tracing', 'knowledge_base',
  'core', 'user_messages', 'bot_messages', 'docs', 'flows', 'actions_server_url', 'import_paths', 'custom_data', 'prompting_mode',
  'embedding_search_provider', 'dialog', 'retrieval', 'fact_checking',
]);

function hint(key: string): string {
  if (RENAMED[key]) return ` (did you mean ${RENAMED[key]}?)`;
  return NEMO_ONLY.has(key) ? ' (a NeMo Guardrails setting rxguardrails does not use)' : '';
}

function withoutKeys(data: Record<string, unknown>, drops: readonly { path: KeyPath; keys: readonly string[] }[]): Record<string, unknown> {
  const copy = structuredClone(data);
  for (const { path, keys } of drops) {
    let target: unknown = copy;
    for (const part of path) target = (target as Record<string | number, unknown> | undefined)?.[part];
    if (target && typeof target === 'object') for (const key of keys) delete (target as Record<string, unknown>)[key];
  }
  return copy;
}
