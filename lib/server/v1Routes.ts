// Internal: the OpenAI-compatible routes, as a Hono sub-app that createApp mounts under /v1 (behind its API-key,
// content-type and body-limit middleware).
import type { ServerResponse } from 'node:http';
import { Hono } from 'hono';
import type { LLMRails } from '../llm/LLMRails.js';
import type { ErrorContext } from './CreateAppOptions.js';
import { UsageTracker } from '../usage/UsageTracker.js';
import { DemandGate } from '../sources/DemandGate.js';
import { completionResponse } from './completionResponse.js';
import { withGuardrailsEvents } from './guardrailsEvents.js';
import type { Lifecycle } from './lifecycle.js';
import { chatCompletionRequest, chatMessages, completionIds, llmParams, openAIError, requestError } from './openAIProtocol.js';
import { type SseLimits, sseResponse } from './sseResponse.js';

/** The header a client may name its config with, besides `config_id` in the body (the openai SDK's `defaultHeaders`). */
export const CONFIG_HEADER = 'x-guardrails-config-id';

/** A config the server found: ready to answer, or unavailable for a reason the client is told. */
export type ServedConfig = { readonly rails: LLMRails; readonly unavailable?: undefined } | { readonly rails?: undefined; readonly unavailable: string };

/** What the /v1 routes serve. */
export interface V1RoutesOptions {
  /** The configs by id, loaded once: a request only picks one of these, nothing is read from disk per request. */
  readonly configs: ReadonlyMap<string, ServedConfig>;
  /** The config of a request that names none. */
  readonly defaultConfigId: string | undefined;
  /** Where unexpected failures of an answer go, with the request they belong to. */
  readonly onError: (error: unknown, context: ErrorContext) => void;
  /** Failures reach clients without their detail, which goes to `onError` (createApp's `hideErrorDetail`). */
  readonly hideErrorDetail: boolean;
  readonly lifecycle: Lifecycle;
  readonly limits: SseLimits;
  /**
   * Whether streams may be written straight to Node's response: not when middleware sets headers on responses
   * (CORS), which only a Response handed back to Hono carries.
   */
  readonly direct: boolean;
}

/**
 * `POST /chat/completions` (OpenAI's request plus NeMo's `config_id`, or the `X-Guardrails-Config-Id` header),
 * `GET /models` (the configs that can answer, in OpenAI's list shape) and `GET /rails/configs` (every config, with
 * why one cannot answer).
 *
 * A request with `stream: true` is answered from `LLMRails.answer()`, which streams whatever the config: token by
 * token when its output rails stream, else the whole checked answer as one chunk. Without `stream`, `generate()`
 * gives the whole answer, aborted when the client goes away. Both are tracked by the lifecycle, so a shutdown can
 * let them finish and stop the rest.
 */
export function v1Routes(options: V1RoutesOptions): Hono {
  const { configs, defaultConfigId, onError, hideErrorDetail, lifecycle, limits, direct } = options;
  const ids = [...configs.keys()];
  const routes = new Hono();

  const listed = [...configs];
  routes.get('/rails/configs', (c) => c.json(listed.map(([id, { unavailable }]) => ({ id, ...(unavailable ? { available: false, reason: unavailable } : {}) }))));
  routes.get('/models', (c) =>
    c.json({ object: 'list', data: listed.filter(([, { rails }]) => rails).map(([id]) => ({ id, object: 'model', created: 0, owned_by: 'rxguardrails' })) }),
  );

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
    if (request.stream_options?.include_guardrails === true && request.stream !== true) {
      return c.json(
        openAIError("Invalid value for 'stream_options.include_guardrails': guardrails events are frames of a streamed answer; send it with stream: true.", {
          param: 'stream_options.include_guardrails',
          code: 'invalid_value',
        }),
        400,
      );
    }
    const configId = request.config_id ?? request.guardrails?.config_id ?? c.req.header(CONFIG_HEADER) ?? defaultConfigId;
    if (configId === undefined) {
      return c.json(openAIError('No guardrails config_id provided and server has no default configuration', { param: 'config_id', code: 'missing_config_id' }), 422);
    }
    const served = configs.get(configId);
    if (!served) {
      return c.json(
        openAIError(`The guardrails config '${configId.slice(0, 256)}' does not exist; this server has: ${ids.join(', ')}.`, { param: 'config_id', code: 'config_not_found' }),
        404,
      );
    }
    if (!served.rails) {
      return c.json(openAIError(`The guardrails config '${configId}' cannot answer: ${served.unavailable}`, { type: 'server_error', param: 'config_id', code: 'config_unavailable' }), 503);
    }
    const { rails } = served;
    const completion = completionIds(request.model);
    const onAnswerError = (error: unknown) => onError(error, { requestId: completion.id, configId });
    const messages = chatMessages(request);
    const params = llmParams(request);
    // Under @hono/node-server the response's 'close' tells of a client gone (reading the request's signal would
    // make the adapter build the whole web Request); elsewhere the request's signal.
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    if (!request.stream) {
      const usage = new UsageTracker();
      const cancel = new AbortController();
      let stopped: string | undefined;
      const untrack = lifecycle.track({
        stop: (reason) => {
          stopped = reason;
          cancel.abort(new Error(reason));
        },
      });
      if (outgoing) outgoing.on('close', () => cancel.abort());
      else c.req.raw.signal.addEventListener('abort', () => cancel.abort(), { once: true });
      // An input-rail block as an error, so that the answer reports it under guardrails.violation as it does an
      // output-rail block (the content is the refusal all the same).
      const answer = rails.generate(messages, { llmParams: params, usage, signal: cancel.signal, onInputViolation: 'error' }).finally(untrack);
      return completionResponse(answer, { ids: completion, configId, usage, onError: onAnswerError, hideErrorDetail, stopped: () => stopped, lifecycle });
    }
    // A tracker only when the usage frame is asked for: otherwise nobody would read it.
    const usage = request.stream_options?.include_usage === true ? new UsageTracker() : undefined;
    // Paused while the client is behind: the model's stream is then left unread, not buffered.
    const demand = new DemandGate();
    const onInputViolation = request.guardrails?.input_violation;
    const answerOptions = { llmParams: params, demand, ...(onInputViolation ? { onInputViolation } : {}) };
    // The extension's events come from this call's own hooks: nothing is added to the answer of a request without it.
    const tokens$ =
      request.stream_options?.include_guardrails === true
        ? withGuardrailsEvents((hooks) => rails.answer(messages, { ...answerOptions, ...hooks }), usage)
        : rails.answer(messages, { ...answerOptions, usage });
    const target = outgoing && direct ? { outgoing } : { signal: c.req.raw.signal };
    return sseResponse(tokens$, { ids: completion, usage, onError: onAnswerError, hideErrorDetail, target, lifecycle, limits, demand });
  });

  return routes;
}
