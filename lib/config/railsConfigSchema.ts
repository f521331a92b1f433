// The one schema of config.yml (NeMo Guardrails' keys, snake_case). Types come from it with z.infer, and
// config.schema.json (for editor completion) is generated from it by `npm run schema`.
import { z } from 'zod';

const nonEmpty = (what: string) => z.string().trim().min(1, `must be a non-empty ${what}`);

export const ENGINES = ['openai', 'anthropic', 'scripted'] as const;

export const modelSchema = z
  .strictObject({
    type: nonEmpty('model type').default('main').describe('main: the generation model; self_check_input / self_check_output: a dedicated judge'),
    engine: z.enum(ENGINES, { error: (issue) => `unknown engine ${JSON.stringify(issue.input)}; use one of ${ENGINES.join(', ')}` }),
    model: nonEmpty('model id').optional().describe('the model id, e.g. gpt-4o-mini (or parameters.model / parameters.model_name)'),
    api: z.enum(['chat', 'responses']).optional().describe('engine openai: Chat Completions (default) or the Responses API'),
    parameters: z.record(z.string(), z.unknown()).default({}).describe('sent with every request (temperature, max_tokens, ...); engine scripted: responses, delay_ms'),
    mode: z.enum(['chat', 'text']).optional(),
    api_key_env_var: nonEmpty('environment variable name').optional().describe('where the API key is (default OPENAI_API_KEY / ANTHROPIC_API_KEY)'),
  })
  .superRefine((model, context) => {
    const inParameters = ['model', 'model_name'].filter((key) => typeof model.parameters[key] === 'string');
    if (model.model !== undefined && inParameters.length > 0) {
      context.addIssue({ code: 'custom', path: ['model'], message: `give the model id once: in model or in parameters.${inParameters[0]}, not both` });
    }
    if (model.engine !== 'scripted' && model.model === undefined && inParameters.length === 0) {
      context.addIssue({ code: 'custom', path: ['model'], message: `engine ${model.engine} needs a model id (model: ...)` });
    }
    if (model.engine === 'scripted') {
      const { responses, delay_ms: delay } = model.parameters;
      if (!Array.isArray(responses) || responses.length === 0 || !responses.every((response) => typeof response === 'string')) {
        context.addIssue({ code: 'custom', path: ['parameters', 'responses'], message: 'engine scripted needs parameters.responses: a non-empty list of answers' });
      }
      if (delay !== undefined && (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0)) {
        context.addIssue({ code: 'custom', path: ['parameters', 'delay_ms'], message: 'must be a number of milliseconds, at least 0' });
      }
    }
  });

const promptMessageSchema = z.strictObject({
  type: z.string().optional(),
  role: z.string().optional(),
  content: z.string(),
});

export const promptSchema = z
  .strictObject({
    task: nonEmpty('task name').describe('self_check_output, self_check_input, ...'),
    content: z.string().optional().describe('a Jinja template, e.g. with {{ bot_response }} and {{ user_input }}'),
    messages: z.array(promptMessageSchema).min(1).optional(),
    models: z.array(z.string()).optional().describe('only for these engines or engine/model ids'),
    output_parser: z.string().optional(),
    max_length: z.number().int('must be an integer').positive('must be a positive integer').optional(),
    mode: z.string().optional(),
    stop: z.array(z.string()).optional(),
    max_tokens: z.number().int('must be an integer').positive('must be a positive integer').optional().describe('for LLM-judged rails (default 3)'),
  })
  .superRefine((prompt, context) => {
    if ((prompt.content === undefined) === (prompt.messages === undefined)) {
      context.addIssue({ code: 'custom', path: ['content'], message: 'a prompt needs exactly one of content or messages' });
    }
  });

const flowsSchema = z.array(nonEmpty('flow name')).default([]);

const streamingSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    chunk_size: z.number().int('must be an integer').min(1, 'must be at least 1').default(200).describe('stream items per window'),
    context_size: z.number().int('must be an integer').min(0, 'must be at least 0').default(50).describe('items each window repeats from the previous one'),
    stream_first: z.boolean().default(true).describe('release each item at once (true) or only after its windows passed (false)'),
    on_violation: z.enum(['error', 'chunk', 'replace']).default('error').describe("error: a RailViolationError; chunk: NeMo's JSON item; replace: the refusal text"),
  })
  .superRefine((streaming, context) => {
    // Only between two valid sizes: a chunk_size below 1 has its own message.
    if (streaming.chunk_size >= 1 && streaming.context_size >= streaming.chunk_size) {
      context.addIssue({
        code: 'custom',
        path: ['context_size'],
        message: `must be less than chunk_size (${streaming.chunk_size}), got ${streaming.context_size}`,
      });
    }
  });

export const railsSchema = z
  .strictObject({
    input: z.strictObject({ flows: flowsSchema, parallel: z.boolean().default(false) }).prefault({}),
    output: z
      .strictObject({
        flows: flowsSchema,
        parallel: z.boolean().default(false),
        apply_to_reasoning_traces: z.boolean().optional(),
        streaming: streamingSchema.prefault({}),
      })
      .prefault({}),
    config: z
      .strictObject({
        keyword_check: z
          .strictObject({
            keywords: z.array(nonEmpty('keyword')).min(1, 'needs at least one keyword'),
            case_sensitive: z.boolean().default(false),
            word_boundary: z.boolean().default(false),
          })
          .optional(),
        regex_check: z.strictObject({ patterns: z.array(nonEmpty('pattern')).min(1, 'needs at least one pattern') }).optional(),
      })
      .prefault({}),
  })
  .prefault({});

export const railsConfigSchema = z.strictObject({
  models: z.array(modelSchema).default([]),
  streaming: z.boolean().default(false).describe('NeMo v0.19 key: stream the main model (deprecated in NeMo v0.20; rxguardrails honours it)'),
  rails: railsSchema,
  prompts: z.array(promptSchema).default([]),
  lowest_temperature: z.number().min(0, 'must be at least 0').default(0.001).describe('temperature of LLM-judged rails'),
});

export type RailsConfigData = z.infer<typeof railsConfigSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type PromptConfig = z.infer<typeof promptSchema>;
