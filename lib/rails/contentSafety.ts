import type { OutputRail } from '../core/types.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { describeValue } from '../internal/validateOptions.js';
import type { PromptVariables } from './compilePrompt.js';
import { SAFETY_PARSERS, type SafetyParser } from './contentSafetyParsers.js';
import { type SafetyJudgeOptions, safetyJudgeRail } from './safetyJudge.js';
import type { SafetyParserName } from './safetyParserNames.js';

/** NeMo's content-safety judge temperature: hard-coded, not `lowest_temperature`. */
export const CONTENT_SAFETY_TEMPERATURE = 1e-20;

/** Options of {@link contentSafetyCheckInput} and {@link contentSafetyCheckOutput}. */
export interface ContentSafetyOptions extends SafetyJudgeOptions {
  /**
   * How the judge's answer is read, by NeMo's parser name: `is_content_safe` (Llama Guard, ShieldGemma: `safe` /
   * `unsafe S1`), `nemoguard_parse_prompt_safety` / `nemoguard_parse_response_safety` (NemoGuard's JSON),
   * `nemotron_reasoning_parse_*`, `nemotron_content_safety_parse_*`. Any answer the parser cannot read blocks.
   * @default 'is_content_safe'
   */
  readonly outputParser?: string;
  /**
   * `reasoning_enabled` in the prompt (`rails.config.content_safety.reasoning.enabled`), for templates that switch
   * a reasoning judge between `/think` and `/no_think`.
   * @default false
   */
  readonly reasoningEnabled?: boolean;
}

/**
 * An output rail judged by a content-safety model, as NeMo's `content safety check output $model=<type>`: the
 * judge (NemoGuard, Llama Guard, ShieldGemma, ...) is asked with the prompt rendered from the user's message
 * (`{{ user_input }}`) and each window's text (`{{ bot_response }}`), at NeMo's temperature (1e-20) and
 * `max_tokens` (default 3), and its answer read by the named output parser; an answer the parser cannot read blocks.
 * Calls are recorded under the task `content_safety_check_output` (LLMRails: with the flow's `$model=`). The decision's
 * `details.policyViolations` holds the categories the judge named.
 *
 * Internal to the flow registry (not exported from the core entry, so it can load lazily); a config names it:
 *
 * ## Example
 * ```yaml
 * models:
 *   - { type: content_safety, engine: nim, model: nvidia/llama-3.1-nemoguard-8b-content-safety, parameters: { base_url: http://localhost:8123/v1 } }
 * rails:
 *   output: { flows: [content safety check output $model=content_safety], streaming: { enabled: True, chunk_size: 50, context_size: 10 } }
 * prompts:
 *   - task: content_safety_check_output $model=content_safety
 *     content: "user: {{ user_input }}\nagent: {{ bot_response }}\nAnswer in JSON with \"Response Safety\"."
 *     output_parser: nemoguard_parse_response_safety
 *     max_tokens: 50
 * ```
 */
export function contentSafetyCheckOutput(options: ContentSafetyOptions): OutputRail {
  return contentSafety('contentSafetyCheckOutput', 'output', options);
}

/**
 * An input rail judged by a content-safety model, as NeMo's `content safety check input $model=<type>`: the prompt is
 * rendered from the user's message (`{{ user_input }}`); otherwise as {@link contentSafetyCheckOutput}.
 */
export function contentSafetyCheckInput(options: ContentSafetyOptions): OutputRail {
  return contentSafety('contentSafetyCheckInput', 'input', options);
}

function contentSafety(owner: string, side: 'input' | 'output', options: ContentSafetyOptions): OutputRail {
  const { outputParser = 'is_content_safe', reasoningEnabled = false } = options ?? {};
  const parser: SafetyParser | undefined = Object.hasOwn(SAFETY_PARSERS, outputParser) ? SAFETY_PARSERS[outputParser as SafetyParserName] : undefined;
  if (!parser) {
    throw new InvalidOptionError(
      'outputParser',
      outputParser,
      `${owner}: outputParser must be one of ${Object.keys(SAFETY_PARSERS).join(', ')}, got ${describeValue(outputParser)}`,
    );
  }
  return safetyJudgeRail(
    {
      owner,
      extraKeys: ['outputParser', 'reasoningEnabled'],
      defaultName: `content safety check ${side}`,
      defaultTask: `content_safety_check_${side}`,
      temperature: CONTENT_SAFETY_TEMPERATURE,
      maxTokens: 3,
      parser,
      variables: (text, context): PromptVariables =>
        side === 'input'
          ? { user_input: text, reasoning_enabled: reasoningEnabled }
          : { user_input: context.userMessage ?? '', bot_response: text, reasoning_enabled: reasoningEnabled },
    },
    options,
  );
}
