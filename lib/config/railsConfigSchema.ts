// The one schema of config.yml (NeMo Guardrails' keys, snake_case). Types come from it with z.infer, and
// config.schema.json (for editor completion) is generated from it by `npm run schema`.
//
// Written with zod/mini, zod's functional build: a browser bundle keeps only the checks used here (about 20 kB where
// zod's classic API, whose methods bring every check along, took 93 kB). It has no English messages of its own
// ("Invalid input"): every check here says its message, and RailsConfig words the type errors.
import * as z from 'zod/mini';
import { DEFAULT_CHUNK_SIZE, DEFAULT_CONTEXT_SIZE } from '../operators/bufferChunks.js';

const nonEmpty = (what: string) => z.string().check(z.trim(), z.minLength(1, `must be a non-empty ${what}`));
/** A schema with its description (for config.schema.json). */
const described = <T extends z.ZodMiniType>(schema: T, description: string): T => schema.check(z.describe(description)) as T;
const integer = (message: string) => z.number().check(z.int(message));

export const ENGINES = ['openai', 'nim', 'nvidia_ai_endpoints', 'vllm_openai', 'anthropic', 'scripted'] as const;

/** The engines served by an OpenAI-compatible Chat Completions API, through the `openai` client. */
export const OPENAI_COMPATIBLE_ENGINES = ['openai', 'nim', 'nvidia_ai_endpoints', 'vllm_openai'] as const;

/** Where the NVIDIA API catalog serves `nim` / `nvidia_ai_endpoints` models unless `parameters.base_url` says otherwise. */
export const NVIDIA_API_CATALOG_URL = 'https://integrate.api.nvidia.com/v1';

/** Where the model id may be given besides `model`, as NeMo allows. */
const MODEL_ID_PARAMETERS = ['model', 'model_name'] as const;

/** How long a model made from the config may keep a call waiting for its first stream event, by default. */
export const DEFAULT_FIRST_TOKEN_TIMEOUT_MS = 60_000;
/** How long it may keep a call waiting between two events, by default. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** Bounds both waits when the config gives neither the wait's own key nor timeout_ms. */
export const UPSTREAM_TIMEOUT_ENV_VAR = 'RXGUARDRAILS_UPSTREAM_TIMEOUT_MS';

// zod's number already refuses Infinity and NaN.
const milliseconds = z.number({ error: 'must be a positive number of milliseconds' }).check(z.positive('must be a positive number of milliseconds'));

/**
 * The bounds on the waits for a provider (`upstream:` at the top level for every model of the config, or in a
 * models entry for that model, key by key over the top level's).
 */
const upstreamSchema = described(
  z.strictObject({
    timeout_ms: described(
      z.optional(milliseconds),
      `bounds both waits (for the first token, and between tokens) when their own keys are not set; default ${UPSTREAM_TIMEOUT_ENV_VAR}, else ${DEFAULT_FIRST_TOKEN_TIMEOUT_MS} and ${DEFAULT_IDLE_TIMEOUT_MS}`,
    ),
    first_token_timeout_ms: described(
      z.optional(milliseconds),
      `milliseconds from the request to the provider's first stream event, SDK retries included (default timeout_ms, ${UPSTREAM_TIMEOUT_ENV_VAR}, else ${DEFAULT_FIRST_TOKEN_TIMEOUT_MS}); over it: HTTP 504 before any token`,
    ),
    idle_timeout_ms: described(
      z.optional(milliseconds),
      `milliseconds between two stream events (default timeout_ms, ${UPSTREAM_TIMEOUT_ENV_VAR}, else ${DEFAULT_IDLE_TIMEOUT_MS}); over it the stream ends with an error`,
    ),
    max_retries: described(
      z.optional(z.number({ error: 'must be an integer, at least 0' }).check(z.int('must be an integer, at least 0'), z.gte(0, 'must be an integer, at least 0'))),
      'SDK retries of a failed request (connection errors, 408, 409, 429, 5xx) for clients made from the environment, inside first_token_timeout_ms (default 0: a 429 is answered at once, with its retry-after)',
    ),
  }),
  'bounds on the waits for the model provider (a stalled provider ends the answer with a timeout error)',
);

/** The keys every models entry has, whatever its engine. */
const modelBase = {
  type: described(z._default(nonEmpty('model type'), 'main'), 'main: the generation model; self_check_input / self_check_output: a dedicated judge'),
  model: described(z.optional(nonEmpty('model id')), 'the model id, e.g. gpt-4o-mini (or parameters.model / parameters.model_name)'),
  mode: z.optional(z.enum(['chat', 'text'], "must be 'chat' or 'text'")),
  upstream: described(z.optional(upstreamSchema), "this model's bounds on the waits for its provider, key by key over the top-level upstream"),
};

/** Request parameters of a provider engine: sent with every request, except the model id they may carry. */
const providerParameters = z.looseObject({
  model: z.optional(z.string()),
  model_name: z.optional(z.string()),
});

/** Where an OpenAI-compatible server is, and its key, as NeMo's engines take them: not sent as request parameters. */
const CLIENT_PARAMETERS = ['base_url', 'openai_api_base', 'api_key'] as const;
const url = (key: string) => described(z.optional(nonEmpty('URL')), key);
const PARAMETERS = 'sent with every request (temperature, max_tokens, ...)';

const apiKeyEnvVar = described(
  z.optional(nonEmpty('environment variable name')),
  'the API key variable (default OPENAI_API_KEY, ANTHROPIC_API_KEY, NVIDIA_API_KEY for nim)',
);

const openAIModelSchema = z.strictObject({
  ...modelBase,
  engine: z.literal(OPENAI_COMPATIBLE_ENGINES),
  api: described(z.optional(z.enum(['chat', 'responses'], "must be 'chat' or 'responses'")), 'Chat Completions (default) or the Responses API'),
  parameters: described(
    z.prefault(
      z.safeExtend(providerParameters, {
        base_url: url('an OpenAI-compatible server (self-hosted NIM, vLLM, ...)'),
        openai_api_base: url('base_url, LangChain-era name'),
        api_key: described(z.optional(nonEmpty('API key')), 'the API key'),
      }),
      {},
    ),
    PARAMETERS,
  ),
  api_key_env_var: apiKeyEnvVar,
});

const anthropicModelSchema = z.strictObject({
  ...modelBase,
  engine: z.literal('anthropic'),
  parameters: described(
    z.prefault(
      z.safeExtend(providerParameters, {
        max_tokens: described(z.optional(integer('must be an integer').check(z.positive('must be a positive integer'))), 'required by the Messages API (default 1024)'),
      }),
      {},
    ),
    PARAMETERS,
  ),
  api_key_env_var: apiKeyEnvVar,
});

const SCRIPTED_RESPONSES = 'engine scripted needs parameters.responses: a non-empty list of answers';

const scriptedModelSchema = z.strictObject({
  ...modelBase,
  engine: z.literal('scripted'),
  parameters: described(
    // Parsed when absent, so a missing list gets its message rather than passing.
    z.prefault(
      z.safeExtend(providerParameters, {
        responses: described(z.array(z.string(), { error: SCRIPTED_RESPONSES }).check(z.minLength(1, SCRIPTED_RESPONSES)), 'the answers, used in turn'),
        delay_ms: described(
          z.optional(z.number({ error: 'must be a number of milliseconds, at least 0' }).check(z.gte(0, 'must be a number of milliseconds, at least 0'))),
          'milliseconds before each word',
        ),
      }),
      {} as { responses: string[] },
    ),
    'the scripted answers (responses) and their pace (delay_ms)',
  ),
});

/** A `models:` entry: which engine, which model, its parameters. Typed per engine. */
export const modelSchema = z
  .discriminatedUnion('engine', [openAIModelSchema, anthropicModelSchema, scriptedModelSchema], {
    error: (issue) => (issue.code === 'invalid_union' ? `unknown engine ${JSON.stringify((issue.input as { engine?: unknown } | undefined)?.engine)}; use one of ${ENGINES.join(', ')}` : undefined),
  })
  .check(
    z.superRefine((model, context) => {
      const inParameters = MODEL_ID_PARAMETERS.filter((key) => typeof model.parameters[key] === 'string');
      if (model.model !== undefined && inParameters.length > 0) {
        context.addIssue({ code: 'custom', path: ['model'], message: `give the model id once: in model or in parameters.${inParameters[0]}, not both` });
      }
      if (model.engine !== 'scripted' && model.model === undefined && inParameters.length === 0) {
        context.addIssue({ code: 'custom', path: ['model'], message: `engine ${model.engine} needs a model id (model: ...)` });
      }
      if (model.engine === 'vllm_openai' && baseUrl(model) === undefined) {
        context.addIssue({ code: 'custom', path: ['parameters'], message: 'engine vllm_openai needs its server: parameters.openai_api_base (or base_url)' });
      }
    }),
  );

/** The model id of an entry: `model`, else `parameters.model`, else `parameters.model_name`. */
export function modelId(model: ModelConfig): string | undefined {
  return model.model ?? model.parameters.model ?? model.parameters.model_name;
}

/** The request parameters of an entry, without the model id and the client settings they may carry. */
export function requestParameters(model: ModelConfig): Record<string, unknown> {
  const { model: _model, model_name: _modelName, ...parameters } = model.parameters as Record<string, unknown>;
  for (const key of CLIENT_PARAMETERS) delete parameters[key];
  return parameters;
}

/** The OpenAI-compatible server of an entry, if it names one (`parameters.base_url`, else `openai_api_base`). */
export function baseUrl(model: ModelConfig): string | undefined {
  const parameters = model.parameters as { base_url?: string; openai_api_base?: string };
  return parameters.base_url ?? parameters.openai_api_base;
}

const promptMessageSchema = z.strictObject({
  type: z.optional(z.string()),
  role: z.optional(z.string()),
  content: z.string(),
});

export const promptSchema = z
  .strictObject({
    task: described(nonEmpty('task name'), 'self_check_output, self_check_input, ...'),
    content: described(z.optional(z.string()), 'a Jinja template, e.g. with {{ bot_response }} and {{ user_input }}'),
    messages: z.optional(z.array(promptMessageSchema).check(z.minLength(1, 'needs at least one message'))),
    models: described(z.optional(z.array(z.string())), 'only for these engines or engine/model ids'),
    output_parser: z.optional(z.string()),
    max_length: z.optional(integer('must be an integer').check(z.positive('must be a positive integer'))),
    mode: z.optional(z.string()),
    stop: z.optional(z.array(z.string())),
    max_tokens: described(z.optional(integer('must be an integer').check(z.positive('must be a positive integer'))), 'for LLM-judged rails (default 3)'),
  })
  .check(
    z.superRefine((prompt, context) => {
      if ((prompt.content === undefined) === (prompt.messages === undefined)) {
        context.addIssue({ code: 'custom', path: ['content'], message: 'a prompt needs exactly one of content or messages' });
      }
    }),
  );

const flowsSchema = z._default(z.array(nonEmpty('flow name')), []);

const streamingSchema = z
  .strictObject({
    enabled: z._default(z.boolean(), false),
    chunk_size: described(z._default(integer('must be an integer').check(z.gte(1, 'must be at least 1')), DEFAULT_CHUNK_SIZE), 'stream items per window'),
    context_size: described(z._default(integer('must be an integer').check(z.gte(0, 'must be at least 0')), DEFAULT_CONTEXT_SIZE), 'items each window repeats from the previous one'),
    stream_first: described(z._default(z.boolean(), true), 'release each item at once (true) or only after its windows passed (false)'),
    first_chunk_size: described(
      z.optional(integer('must be an integer').check(z.gte(1, 'must be at least 1'))),
      "rxguardrails' key: items in the first window, windows then doubling what they release up to chunk_size; default context_size + 1 with stream_first False (the first text goes out after it), chunk_size with True",
    ),
    concurrency: described(
      z._default(integer('must be an integer').check(z.gte(1, 'must be at least 1')), 1),
      "rxguardrails' key: how many windows may be checked at once (released in order, stopping at the first block); above 1 a judge slower than the stream keeps up",
    ),
    on_violation: described(
      z._default(z.enum(['error', 'chunk', 'replace'], "must be one of 'error', 'chunk', 'replace'"), 'error'),
      "error: a RailViolationError; chunk: NeMo's JSON item; replace: the refusal text",
    ),
  })
  .check(
    z.superRefine((streaming, context) => {
      // Only between two valid sizes: a chunk_size below 1 has its own message.
      if (streaming.chunk_size >= 1 && streaming.context_size >= streaming.chunk_size) {
        context.addIssue({
          code: 'custom',
          path: ['context_size'],
          message: `must be less than chunk_size (${streaming.chunk_size}), got ${streaming.context_size}`,
        });
      }
      const first = streaming.first_chunk_size;
      if (first !== undefined && first >= 1 && streaming.context_size < streaming.chunk_size && (first <= streaming.context_size || first > streaming.chunk_size)) {
        context.addIssue({
          code: 'custom',
          path: ['first_chunk_size'],
          message: `must be more than context_size and at most chunk_size (from ${streaming.context_size + 1} to ${streaming.chunk_size}), got ${first}`,
        });
      }
    }),
  );

/** How long a rail may take to answer one check, unless the config says otherwise (rxguardrails' key). */
export const DEFAULT_CHECK_TIMEOUT_MS = 30_000;

const checkTimeoutSchema = described(
  z._default(z.number().check(z.positive('must be a positive number of milliseconds')), DEFAULT_CHECK_TIMEOUT_MS),
  'how long each rail of this side may take to answer one check, in ms, before it counts as failed (fail-closed); default 30000',
);

/** `rails.config.jailbreak_detection`: NeMo's keys for the jailbreak classifier and the perplexity heuristics. */
const jailbreakDetectionSchema = z.strictObject({
  nim_base_url: described(z.optional(nonEmpty('URL')), 'a NemoGuard JailbreakDetect NIM, e.g. https://ai.api.nvidia.com'),
  nim_server_endpoint: described(z._default(nonEmpty('path'), 'classify'), 'the classifier path under nim_base_url (default classify)'),
  api_key: described(z.optional(nonEmpty('API key')), 'bearer token for the NIM (wins over api_key_env_var)'),
  api_key_env_var: described(z.optional(nonEmpty('environment variable name')), 'where the NIM API key is, e.g. NVIDIA_API_KEY'),
  server_endpoint: described(z.optional(nonEmpty('URL')), "NeMo's jailbreak detection server: .../model for the model flow (without nim_base_url), .../heuristics for the heuristics"),
  length_per_perplexity_threshold: z._default(z.number().check(z.positive('must be a positive number')), 89.79),
  prefix_suffix_perplexity_threshold: z._default(z.number().check(z.positive('must be a positive number')), 1845.65),
  nim_url: described(z.optional(nonEmpty('host')), 'deprecated (NeMo v0.13): the NIM host, read as http://<nim_url>:<nim_port>/v1'),
  nim_port: described(z.optional(integer('must be an integer').check(z.positive('must be a positive integer'))), 'deprecated (NeMo v0.13): the NIM port (default 8000)'),
  embedding: described(z.optional(z.unknown()), 'deprecated and unused, as in NeMo'),
});

/** `rails.config.injection_detection`: NeMo's rule sets and action; YARA rules of one's own cannot run here. */
const injectionDetectionSchema = z
  .strictObject({
    injections: z
      .array(z.enum(['code', 'sqli', 'template', 'xss'], 'must be one of the built-in rule sets code, sqli, template, xss'))
      .check(z.minLength(1, 'needs at least one of code, sqli, template, xss')),
    action: described(
      z._default(z.enum(['reject', 'omit'], "must be 'reject' or 'omit' (NeMo declares 'sanitize' but does not implement it)"), 'reject'),
      'reject blocks; omit blocks too in rxguardrails, which cannot remove text from an answer',
    ),
    yara_path: z.optional(z.string()),
    yara_rules: z.optional(z.record(z.string(), z.string())),
  })
  .check(
    z.superRefine((settings, context) => {
      for (const key of ['yara_path', 'yara_rules'] as const) {
        if (settings[key] !== undefined) {
          context.addIssue({ code: 'custom', path: [key], message: 'YARA rules cannot run in rxguardrails (it has its own patterns for code, sqli, template and xss): remove the key' });
        }
      }
    }),
  );

const scoreThreshold = z.number({ error: 'must be a number from 0 to 1' }).check(z.gte(0, 'must be a number from 0 to 1'), z.lte(1, 'must be a number from 0 to 1'));

/** One side of `rails.config.sensitive_data_detection` (`input`, `output`, `retrieval`). */
const sensitiveDataSideSchema = z.strictObject({
  entities: described(z._default(z.array(nonEmpty('entity type')), []), 'Presidio entity types: EMAIL_ADDRESS, CREDIT_CARD, PERSON, ...'),
  score_threshold: described(z._default(scoreThreshold, 0.2), 'the score from which a finding counts (default 0.2)'),
  mask_token: described(z.optional(z.string()), "NeMo's key, unused there too"),
});

/** `rails.config.sensitive_data_detection`: NeMo's Presidio settings, plus rxguardrails' analyzer_endpoint. */
const sensitiveDataDetectionSchema = z.strictObject({
  recognizers: z._default(
    z.array(
      z
        .strictObject({
          name: z.optional(z.string()),
          supported_language: z.optional(z.string()),
          supported_entity: nonEmpty('entity type'),
          deny_list: z.optional(z.array(nonEmpty('word'))),
          deny_list_score: z.optional(scoreThreshold),
          patterns: z.optional(z.array(z.strictObject({ name: z.optional(z.string()), regex: nonEmpty('pattern'), score: scoreThreshold }))),
          context: z.optional(z.array(z.string())),
        })
        .check(
          z.superRefine((recognizer, context) => {
            if ((recognizer.deny_list?.length ?? 0) === 0 && (recognizer.patterns?.length ?? 0) === 0) {
              context.addIssue({ code: 'custom', path: ['deny_list'], message: 'a recognizer needs a deny_list or patterns' });
            }
          }),
        ),
    ),
    [],
  ),
  input: z.optional(sensitiveDataSideSchema),
  output: z.optional(sensitiveDataSideSchema),
  retrieval: described(z.optional(sensitiveDataSideSchema), 'accepted for NeMo configs; rxguardrails has no retrieval rails'),
  analyzer_endpoint: described(
    z.optional(nonEmpty('URL')),
    "rxguardrails' key: a Presidio analyzer's /analyze URL, for entities that need a named-entity model (PERSON, LOCATION, ...)",
  ),
});

export const railsSchema = z.prefault(
  z.strictObject({
    input: z.prefault(z.strictObject({ flows: flowsSchema, parallel: z._default(z.boolean(), false), check_timeout_ms: checkTimeoutSchema }), {}),
    output: z.prefault(
      z.strictObject({
        flows: flowsSchema,
        parallel: z._default(z.boolean(), false),
        check_timeout_ms: checkTimeoutSchema,
        apply_to_reasoning_traces: z.optional(z.boolean()),
        streaming: z.prefault(streamingSchema, {}),
      }),
      {},
    ),
    config: z.prefault(
      z.strictObject({
        keyword_check: z.optional(
          z.strictObject({
            keywords: z.array(nonEmpty('keyword')).check(z.minLength(1, 'needs at least one keyword')),
            case_sensitive: z._default(z.boolean(), false),
            word_boundary: z._default(z.boolean(), false),
          }),
        ),
        regex_check: z.optional(z.strictObject({ patterns: z.array(nonEmpty('pattern')).check(z.minLength(1, 'needs at least one pattern')) })),
        content_safety: z.optional(
          z.strictObject({
            multilingual: z.optional(
              z.strictObject({
                enabled: z._default(z.boolean(), false),
                refusal_messages: described(z.optional(z.record(z.string(), nonEmpty('refusal'))), 'refusals by language code'),
              }),
            ),
            reasoning: z.optional(z.strictObject({ enabled: described(z._default(z.boolean(), false), 'reasoning_enabled in the prompts') })),
          }),
        ),
        jailbreak_detection: z.optional(jailbreakDetectionSchema),
        injection_detection: z.optional(injectionDetectionSchema),
        sensitive_data_detection: z.optional(sensitiveDataDetectionSchema),
      }),
      {},
    ),
  }),
  {},
);

export const railsConfigSchema = z.strictObject({
  models: z._default(z.array(modelSchema), []),
  streaming: described(
    z.optional(z.boolean()),
    'False: the answer in one chunk (NeMo v0.19; v0.20+ streams)',
  ),
  enable_rails_exceptions: described(
    z._default(z.boolean(), false),
    "a block is NeMo's exception (RailViolationError info.exception), not the refusal",
  ),
  rails: railsSchema,
  prompts: z._default(z.array(promptSchema), []),
  lowest_temperature: described(z._default(z.number().check(z.gte(0, 'must be at least 0')), 0.001), 'temperature of LLM-judged rails'),
  upstream: z.optional(upstreamSchema),
});

export type RailsConfigData = z.infer<typeof railsConfigSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type OpenAIModelConfig = z.infer<typeof openAIModelSchema>;
export type AnthropicModelConfig = z.infer<typeof anthropicModelSchema>;
export type PromptConfig = z.infer<typeof promptSchema>;
