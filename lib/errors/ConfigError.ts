import { GuardrailError } from './GuardrailError.js';

/** One problem in a config: where (file, line, column, key) and what. */
export interface ConfigIssue {
  readonly file: string;
  /** 1-based; undefined when the config was given as an object. */
  readonly line?: number;
  readonly column?: number;
  /** The key path, dotted: `rails.output.streaming.chunk_size`, `models[0].engine`. */
  readonly key?: string;
  readonly message: string;
  /**
   * Set when the problem is the machine's, not the config's: what is missing, the environment variable (an engine's
   * API key) or the package (an engine's SDK). A server can still serve its other configs, and say what this one lacks.
   */
  readonly environment?: string;
}

/** `config.yml:12:17: rails.output.streaming.chunk_size: must be at least 1`. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.column ?? 1}`;
  return `${where}: ${issue.key ? `${issue.key}: ` : ''}${issue.message}`;
}

/**
 * A config that cannot be used: YAML that does not parse, a value of the wrong type, an unknown engine or flow,
 * window sizes that make no sense, a self-check flow without its prompt. Each issue names the file, line, column
 * and key; `file`, `line`, `column` and `key` are those of the first.
 *
 * ## Example
 * ```ts
 * import { ConfigError } from 'rxguardrails';
 * import { RailsConfig } from 'rxguardrails/node';
 *
 * try {
 *   await RailsConfig.fromPath('./config');
 * } catch (error) {
 *   if (ConfigError.isInstance(error)) console.error(error.message); // config.yml:14:19: rails.output.streaming.chunk_size: must be at least 1
 * }
 * ```
 */
export class ConfigError extends GuardrailError {
  static override readonly marker: symbol = Symbol.for('rxguardrails.error.ConfigError');

  override name = 'ConfigError';
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly key?: string;

  constructor(
    readonly issues: readonly ConfigIssue[],
    options?: { cause?: unknown },
  ) {
    super(issues.map(formatConfigIssue).join('\n'), options);
    const [first] = issues;
    this.file = first?.file ?? '<config>';
    this.line = first?.line;
    this.column = first?.column;
    this.key = first?.key;
  }
}
