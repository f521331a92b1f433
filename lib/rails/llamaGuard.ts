import type { OutputRail } from '../core/types.js';
import type { PromptVariables } from './compilePrompt.js';
import { llamaGuardVerdict } from './contentSafetyParsers.js';
import { type SafetyJudgeOptions, safetyJudgeRail } from './safetyJudge.js';

/**
 * An output rail judged by Llama Guard, as NeMo's legacy `llama guard check output` flow: the prompt (task
 * `llama_guard_check_output`) rendered from `{{ user_input }}` and the window's `{{ bot_response }}`, asked at
 * temperature 0; an answer starting with `safe` allows, one starting with `unsafe` blocks (the words after it are
 * the categories), anything else blocks. `max_tokens` is sent only when given (NeMo sends none). Unlike NeMo, whose
 * streaming output rails never block on this flow, it blocks the window.
 *
 * Internal to the flow registry (not exported from the core entry); a config names it:
 *
 * ## Example
 * ```yaml
 * models: [{ type: llama_guard, engine: vllm_openai, parameters: { openai_api_base: http://localhost:5123/v1, model_name: meta-llama/LlamaGuard-7b } }]
 * rails: { output: { flows: [llama guard check output], streaming: { enabled: True } } }
 * prompts: [{ task: llama_guard_check_output, content: "[INST] ... User: {{ user_input }} Agent: {{ bot_response }} [/INST]" }]
 * ```
 */
export function llamaGuardCheckOutput(options: SafetyJudgeOptions): OutputRail {
  return llamaGuard('llamaGuardCheckOutput', 'output', options);
}

/** An input rail judged by Llama Guard, as NeMo's `llama guard check input`: the prompt gets `{{ user_input }}`. */
export function llamaGuardCheckInput(options: SafetyJudgeOptions): OutputRail {
  return llamaGuard('llamaGuardCheckInput', 'input', options);
}

function llamaGuard(owner: string, side: 'input' | 'output', options: SafetyJudgeOptions): OutputRail {
  return safetyJudgeRail(
    {
      owner,
      extraKeys: [],
      defaultName: `llama guard check ${side}`,
      defaultTask: `llama_guard_check_${side}`,
      temperature: 0,
      maxTokens: undefined,
      parser: llamaGuardVerdict,
      variables: (text, context): PromptVariables => (side === 'input' ? { user_input: text } : { user_input: context.userMessage ?? '', bot_response: text }),
    },
    options,
  );
}
