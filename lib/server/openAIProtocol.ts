// Internal: the OpenAI Chat Completions wire format the server speaks, with NeMo Guardrails' v0.21 additions
// (`config_id`, `guardrails: { config_id }`).
import * as z from 'zod';
import type { ChatMessage, Usage } from '../core/types.js';

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });

const message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z.union([z.string(), z.array(contentPart), z.null()]),
});

/** The longest string the server repeats back (the model id in every frame, a config id in messages). */
const MAX_ECHOED = 256;

const number = (minimum: number, maximum: number) => z.number().min(minimum).max(maximum).optional();

export const chatCompletionRequest = z.looseObject({
  // Echoed in every frame of the answer: bounded, or a long one would multiply into every frame.
  model: z
    .string({ error: (issue) => (issue.input === undefined ? 'you must provide a model parameter' : undefined) })
    .min(1, 'you must provide a model parameter')
    .max(MAX_ECHOED, `at most ${MAX_ECHOED} characters`),
  messages: z.array(message).min(1, 'messages must hold at least one message'),
  stream: z.boolean().nullable().optional(),
  stream_options: z
    .looseObject({
      include_usage: z.boolean().optional(),
      // rxguardrails' key: frames of guardrails events (rail checks, LLM calls, the explain summary) in the stream.
      include_guardrails: z.boolean().optional(),
    })
    .nullable()
    .optional(),
  config_id: z.string().min(1).max(MAX_ECHOED, `at most ${MAX_ECHOED} characters`).optional(),
  guardrails: z
    .looseObject({
      config_id: z.string().min(1).max(MAX_ECHOED, `at most ${MAX_ECHOED} characters`).optional(),
      // rxguardrails' key: a streamed input-rail block as the refusal text (NeMo's way, the default) or as the
      // violation frame an output-rail block ends with (so a client can tell it from an answer).
      input_violation: z.enum(['refuse', 'error'], "input_violation must be 'refuse' or 'error'").optional(),
    })
    .optional(),
  n: z.literal(1, 'n must be 1: the guardrails server returns one choice').nullable().optional(),
  temperature: number(0, 2).nullable(),
  top_p: number(0, 1).nullable(),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  presence_penalty: number(-2, 2).nullable(),
  frequency_penalty: number(-2, 2).nullable(),
  seed: z.number().int().nullable().optional(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullable().optional(),
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequest>;

/** Parameters passed on to the main model, as NeMo copies them into `options.llm_params`. */
const FORWARDED = ['temperature', 'top_p', 'max_tokens', 'max_completion_tokens', 'presence_penalty', 'frequency_penalty', 'seed', 'stop'] as const;

export function llmParams(request: ChatCompletionRequest): Record<string, unknown> {
  return Object.fromEntries(FORWARDED.filter((key) => request[key] !== undefined && request[key] !== null).map((key) => [key, request[key]]));
}

/** The request's messages as plain text messages (content parts joined; `developer` is a system message). */
export function chatMessages(request: ChatCompletionRequest): ChatMessage[] {
  return request.messages.map(({ role, content }) => ({
    role: role === 'developer' ? 'system' : role,
    content: typeof content === 'string' ? content : (content ?? []).map((part) => part.text ?? '').join(''),
  }));
}

/** OpenAI's error object. */
export interface OpenAIError {
  readonly error: { readonly message: string; readonly type: string; readonly param: string | null; readonly code: string | null };
}

export function openAIError(message: string, options: { type?: string; param?: string | null; code?: string | null } = {}): OpenAIError {
  return { error: { message, type: options.type ?? 'invalid_request_error', param: options.param ?? null, code: options.code ?? null } };
}

/** The first problem of a request that does not fit the schema, as OpenAI words one. */
export function requestError(issues: readonly z.core.$ZodIssue[]): OpenAIError {
  const [issue] = issues;
  const param = issue ? issue.path.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`)).join('') : null;
  const detail = issue?.code === 'invalid_type' ? `expected ${(issue as z.core.$ZodIssueInvalidType).expected}` : (issue?.message ?? 'invalid request');
  const message = param ? `Invalid value for '${param}': ${detail}.` : `Invalid request: ${detail}.`;
  return openAIError(issue?.message === 'you must provide a model parameter' ? 'you must provide a model parameter' : message, {
    param: param || null,
    code: issue?.code === 'invalid_type' && issue.message.startsWith('Invalid input') ? 'invalid_type' : 'invalid_value',
  });
}

export interface CompletionIds {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

export function completionIds(model: string): CompletionIds {
  return { id: `chatcmpl-${globalThis.crypto.randomUUID()}`, created: Math.floor(Date.now() / 1000), model };
}

export function openAIUsage(usage: Usage): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const prompt = usage.promptTokens ?? 0;
  const completion = usage.completionTokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: usage.totalTokens ?? prompt + completion };
}

/**
 * The `chat.completion.chunk` SSE frames of one completion. The parts every frame shares are serialised once, so
 * a token costs one JSON string escape (this runs once per token, for every stream the server carries).
 */
export class ChunkFramer {
  private readonly head: string;
  private readonly tokenHead: string;
  private readonly tokenTail: string;

  constructor(
    ids: CompletionIds,
    private readonly withUsage: boolean,
  ) {
    this.head = `data: {"id":${JSON.stringify(ids.id)},"object":"chat.completion.chunk","created":${ids.created},"model":${JSON.stringify(ids.model)},"choices":`;
    this.tokenHead = `${this.head}[{"index":0,"delta":{"content":`;
    this.tokenTail = `},"logprobs":null,"finish_reason":null}]${withUsage ? ',"usage":null' : ''}}\n\n`;
  }

  token(text: string): string {
    return this.tokenHead + JSON.stringify(text) + this.tokenTail;
  }

  role(): string {
    return this.frame([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }], null);
  }

  finish(): string {
    return this.frame([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }], null);
  }

  /** Events of `stream_options.include_guardrails`: no choices (as the usage frame), `guardrails: { events }`. */
  guardrails(events: readonly object[]): string {
    return `${this.head}[]${this.withUsage ? ',"usage":null' : ''},"guardrails":{"events":${JSON.stringify(events)}}}\n\n`;
  }

  /** The last frame when the request asked for `stream_options.include_usage`: no choices, the usage. */
  usage(usage: object): string {
    return this.frame([], usage);
  }

  private frame(choices: object[], usage: object | null): string {
    return `${this.head}${JSON.stringify(choices)}${this.withUsage ? `,"usage":${JSON.stringify(usage)}` : ''}}\n\n`;
  }
}

export const DONE_FRAME = 'data: [DONE]\n\n';
