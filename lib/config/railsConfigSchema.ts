// The one schema of config.yml (NeMo Guardrails' keys, snake_case). Types come from it with z.infer, and
// config.schema.json (for editor completion) is generated from it by `npm run schema`.
import * as z from 'zod';
import { DEFAULT_CHUNK_SIZE, DEFAULT_CONTEXT_SIZE } from '../operators/bufferChunks.js';

const nonEmpty = (what: string) => z.string().trim().min(1, `must be a non-empty ${what}`);

export const ENGINES = ['openai', 'anthropic', 'scripted'] as const;

/** Where the model id may be given besides `model`, as NeMo allows. */
const MODEL_ID_PARAMETERS = ['model', 'model_name'] as const;

/** How long a model made from the config may keep a call waiting for its first stream event, by default. */
export const DEFAULT_FIRST_TOKEN_TIMEOUT_MS = 60_000;
/** How long it may keep a call waiting between two events, by default. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** Bounds both waits when the config gives neither the wait's own key nor timeout_ms. */
export const UPSTREAM_TIMEOUT_ENV_VAR = 'RXGUARDRAILS_UPSTREAM_TIMEOUT_MS';

// zod's number already refuses Infinity and NaN.
const milliseconds = z.number({ error: 'must be a positive number of milliseconds' }).positive('must be a positive number of milliseconds');

/**
 * The bounds on the waits for a provider (`upstream:` at the top level for every model of the config, or in a
 * models entry for that model, key by key over the top level's).
 */
const upstreamSchema = z
  .strictObject({
    timeout_ms: milliseconds
      .optional()
      .describe(
        `bounds both waits (for the first token, and between tokens) when their own keys are not set; default ${UPSTREAM_TIMEOUT_ENV_VAR}, else ${DEFAULT_FIRST_TOKEN_TIMEOUT_MS} and ${DEFAULT_IDLE_TIMEOUT_MS}`,
      ),
    first_token_timeout_ms: milliseconds
      .optional()
      .describe(
        `milliseconds from the request to the provider's first stream event, SDK retries included (default timeout_ms, ${UPSTREAM_TIMEOUT_ENV_VAR}, else ${DEFAULT_FIRST_TOKEN_TIMEOUT_MS}); over it: HTTP 504 before any token`,
      ),
    idle_timeout_ms: milliseconds
      .optional()
      .describe(`milliseconds between two stream events (default timeout_ms, ${UPSTREAM_TIMEOUT_ENV_VAR}, else ${DEFAULT_IDLE_TIMEOUT_MS}); over it the stream ends with an error`),
    max_retries: z
      .number({ error: 'must be an integer, at least 0' })
      .int('must be an integer, at least 0')
      .min(0, 'must be an integer, at least 0')
      .optional()
      .describe('SDK retries of a failed request (connection errors, 408, 409, 429, 5xx) for clients made from the environment, inside first_token_timeout_ms (default 0: a 429 is answered at once, with its retry-after)'),
  })
  .describe('bounds on the waits for the model provider (a stalled provider ends the answer with a timeout error)');

/** The keys every models entry has, whatever its engine. */
const modelBase = {
  type: nonEmpty('model type').default('main').describe('main: the generation model; self_check_input / self_check_output: a dedicated judge'),
  model: nonEmpty('model id').optional().describe('the model id, e.g. gpt-4o-mini (or parameters.model / parameters.model_name)'),
  mode: z.enum(['chat', 'text']).optional(),
  upstream: upstreamSchema.optional().describe("this model's bounds on the waits for its provider, key by key over the top-level upstream"),
};

/** Request parameters of a provider engine: sent with every request, except the model id they may carry. */
const providerParameters = z.looseObject({
  model: z.string().optional(),
  model_name: z.string().optional(),
});
const PARAMETERS = 'sent with every request (temperature, max_tokens, ...)';

const apiKeyEnvVar = nonEmpty('environment variable name').optional().describe('where the API key is (default OPENAI_API_KEY / ANTHROPIC_API_KEY)');

const openAIModelSchema = z.strictObject({
  ...modelBase,
  engine: z.literal('openai'),
  api: z.enum(['chat', 'responses']).optional().describe('Chat Completions (default) or the Responses API'),
  parameters: providerParameters.prefault({}).describe(PARAMETERS),
  api_key_env_var: apiKeyEnvVar,
});

const anthropicModelSchema = z.strictObject({
  ...modelBase,
  engine: z.literal('anthropic'),
  parameters: providerParameters
    .safeExtend({
      max_tokens: z.number().int('must be an integer').positive('must be a positive integer').optional().describe('required by the Messages API (default 1024)'),
    })
    .prefault({})
    .describe(PARAMETERS),
  api_key_env_var: apiKeyEnvVar,
});

const SCRIPTED_RESPONSES = 'engine scripted needs parameters.responses: a non-empty list of answers';

const scriptedModelSchema = z.strictObject({
  ...modelBase,
  engine: z.literal('scripted'),
  parameters: providerParameters
    .safeExtend({
      responses: z.array(z.string(), { error: SCRIPTED_RESPONSES }).min(1, SCRIPTED_RESPONSES).describe('the answers, used in turn'),
      delay_ms: z
        .number({ error: 'must be a number of milliseconds, at least 0' })
        .min(0, 'must be a number of milliseconds, at least 0')
        .optional()
        .describe('milliseconds before each word'),
    })
    // Parsed when absent, so a missing list gets its message rather than passing.
    .prefault({} as { responses: string[] })
    .describe('the scripted answers (responses) and their pace (delay_ms)'),
});

/** A `models:` entry: which engine, which model, its parameters. Typed per engine. */
export const modelSchema = z
  .discriminatedUnion('engine', [openAIModelSchema, anthropicModelSchema, scriptedModelSchema], {
    error: (issue) => (issue.code === 'invalid_union' ? `unknown engine ${JSON.stringify((issue.input as { engine?: unknown } | undefined)?.engine)}; use one of ${ENGINES.join(', ')}` : undefined),
  })
  .superRefine((model, context) => {
    const inParameters = MODEL_ID_PARAMETERS.filter((key) => typeof model.parameters[key] === 'string');
    if (model.model !== undefined && inParameters.length > 0) {
      context.addIssue({ code: 'custom', path: ['model'], message: `give the model id once: in model or in parameters.${inParameters[0]}, not both` });
    }
    if (model.engine !== 'scripted' && model.model === undefined && inParameters.length === 0) {
      context.addIssue({ code: 'custom', path: ['model'], message: `engine ${model.engine} needs a model id (model: ...)` });
    }
  });

/** The model id of an entry: `model`, else `parameters.model`, else `parameters.model_name`. */
export function modelId(model: ModelConfig): string | undefined {
  return model.model ?? model.parameters.model ?? model.parameters.model_name;
}

/** The request parameters of an entry, without the model id they may carry. */
export function requestParameters(model: ModelConfig): Record<string, unknown> {
  const { model: _model, model_name: _modelName, ...parameters } = model.parameters;
  return parameters;
}

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
    chunk_size: z.number().int('must be an integer').min(1, 'must be at least 1').default(DEFAULT_CHUNK_SIZE).describe('stream items per window'),
    context_size: z.number().int('must be an integer').min(0, 'must be at least 0').default(DEFAULT_CONTEXT_SIZE).describe('items each window repeats from the previous one'),
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

/** How long a rail may take to answer one check, unless the config says otherwise (rxguardrails' key). */
export const DEFAULT_CHECK_TIMEOUT_MS = 30_000;

const checkTimeoutSchema = z
  .number()
  .positive('must be a positive number of milliseconds')
  .default(DEFAULT_CHECK_TIMEOUT_MS)
  .describe('how long each rail of this side may take to answer one check, in ms, before it counts as failed (fail-closed); default 30000');

export const railsSchema = z
  .strictObject({
    input: z.strictObject({ flows: flowsSchema, parallel: z.boolean().default(false), check_timeout_ms: checkTimeoutSchema }).prefault({}),
    output: z
      .strictObject({
        flows: flowsSchema,
        parallel: z.boolean().default(false),
        check_timeout_ms: checkTimeoutSchema,
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
  upstream: upstreamSchema.optional(),
});

export type RailsConfigData = z.infer<typeof railsConfigSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type OpenAIModelConfig = z.infer<typeof openAIModelSchema>;
export type AnthropicModelConfig = z.infer<typeof anthropicModelSchema>;
export type PromptConfig = z.infer<typeof promptSchema>;
