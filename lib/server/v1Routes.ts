// Internal: the OpenAI-compatible routes, as a Hono sub-app that createApp mounts under /v1 (behind its API-key
// and body-limit middleware).
import type { ServerResponse } from 'node:http';
import { Hono } from 'hono';
import type { LLMRails } from '../llm/LLMRails.js';
import { UsageTracker } from '../usage/UsageTracker.js';
import { completionResponse } from './completionResponse.js';
import { chatCompletionRequest, chatMessages, completionIds, llmParams, openAIError, requestError } from './openAIProtocol.js';
import { sseResponse } from './sseResponse.js';

/** What the /v1 routes serve. */
export interface V1RoutesOptions {
  /** The configs by id, loaded once: a request only picks one of these, nothing is read from disk per request. */
  readonly configs: ReadonlyMap<string, LLMRails>;
  /** The config of a request that names none. */
  readonly defaultConfigId: string | undefined;
  /** Where unexpected failures of an answer go. */
  readonly onError: (error: unknown) => void;
}

/**
 * `POST /chat/completions` (OpenAI's request plus NeMo's `config_id`) and `GET /rails/configs`.
 *
 * A request with `stream: true` is answered from `LLMRails.answer()`, which streams whatever the config: token by
 * token when its output rails stream, else the whole checked answer as one chunk. Without `stream`, `generate()`
 * gives the whole answer, aborted through the request's signal when the client goes away.
 */
export function v1Routes(options: V1RoutesOptions): Hono {
  const { configs, defaultConfigId, onError } = options;
  const ids = [...configs.keys()];
  const routes = new Hono();

  routes.get('/rails/configs', (c) => c.json(ids.map((id) => ({ id }))));

  routes.post('/chat/completions', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json(openAIError('We could not parse the JSON body of your request: it is not valid JSON.', { code: 'invalid_json' }), 400);
    }
    const parsed = chatCompletionRequest.safeParse(body);
    if (!parsed.success) return c.json(requestError(parsed.error.issues), 400);
    const request = parsed.data;
    const configId = request.config_id ?? request.guardrails?.config_id ?? defaultConfigId;
    if (configId === undefined) {
      return c.json(openAIError('No guardrails config_id provided and server has no default configuration', { param: 'config_id', code: 'missing_config_id' }), 422);
    }
    const rails = configs.get(configId);
    if (!rails) {
      return c.json(
        openAIError(`The guardrails config '${configId}' does not exist; this server has: ${ids.join(', ')}.`, { param: 'config_id', code: 'config_not_found' }),
        404,
      );
    }
    const completion = completionIds(request.model);
    const messages = chatMessages(request);
    const params = llmParams(request);
    if (!request.stream) {
      const usage = new UsageTracker();
      const answer = rails.generate(messages, { llmParams: params, usage, signal: c.req.raw.signal });
      return completionResponse(answer, { ids: completion, configId, usage, onError });
    }
    // A tracker only when the usage frame is asked for: otherwise nobody would read it.
    const usage = request.stream_options?.include_usage === true ? new UsageTracker() : undefined;
    const tokens$ = rails.answer(messages, { llmParams: params, usage });
    // Under @hono/node-server the response's 'close' tells of a client gone; elsewhere the request's signal.
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    return sseResponse(tokens$, { ids: completion, usage, onError, target: outgoing ? { outgoing } : { signal: c.req.raw.signal } });
  });

  return routes;
}
