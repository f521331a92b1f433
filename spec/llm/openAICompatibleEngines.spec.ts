// NeMo's OpenAI-compatible engines (nim, nvidia_ai_endpoints, vllm_openai, openai with base_url) as judges, through
// the real openai client (made from the config and the environment) against a local server replaying OpenAI-shaped
// chat completions: where each request goes, with which key and parameters, and what a failing judge does.
import { type ChatMessage, ConfigError, LLMRails, RailsConfig, RailViolationError } from 'rxguardrails';
import { collect } from '../support/collect.js';
import { useReplayServer } from '../support/clients.js';
import { openAIAnswer } from '../support/transcripts.js';
import { useEnvironment } from '../support/environment.js';

const ask = (content: string): ChatMessage[] => [{ role: 'user', content }];
const NVIDIA_KEY = 'NVIDIA_API_KEY';

/** A config whose input is checked by a content-safety judge of this models entry; the main model is scripted. */
function judgedBy(judge: Record<string, unknown>, extra: Record<string, unknown> = {}): RailsConfig {
  return RailsConfig.fromContent({
    models: [{ type: 'main', engine: 'scripted', parameters: { responses: ['Fine, thanks.'] } }, { type: 'content_safety', ...judge }],
    rails: { input: { flows: ['content safety check input $model=content_safety'] } },
    prompts: [{ task: 'content_safety_check_input $model=content_safety', content: 'user: {{ user_input }}', output_parser: 'nemoguard_parse_prompt_safety', max_tokens: 50, stop: ['<|eot_id|>'] }],
    ...extra,
  });
}

describe('OpenAI-compatible engines as judges (the real openai client, a local server)', () => {
  const replay = useReplayServer();
  const setEnvironment = useEnvironment();
  afterEach(() => replay.server.clearPlans());

  it.each([
    ['nim', { model: 'nvidia/llama-3.1-nemoguard-8b-content-safety' }, 'nvidia/llama-3.1-nemoguard-8b-content-safety', 'Bearer nvapi-test'],
    ['nvidia_ai_endpoints', { model: 'nvidia/llama-3.1-nemoguard-8b-content-safety' }, 'nvidia/llama-3.1-nemoguard-8b-content-safety', 'Bearer nvapi-test'],
    ['vllm_openai', { parameters: { model_name: 'meta-llama/LlamaGuard-7b' } }, 'meta-llama/LlamaGuard-7b', 'Bearer EMPTY'],
    ['openai', { model: 'gpt-4o-mini' }, 'gpt-4o-mini', 'Bearer sk-test'],
  ])("engine %s should send the judge's request to its base URL, with its key, at NeMo's parameters", async (engine, entry, model, authorization) => {
    setEnvironment({ [NVIDIA_KEY]: 'nvapi-test', OPENAI_API_KEY: 'sk-test' });
    const { server } = replay;
    server.plan({ transcript: openAIAnswer('{"User Safety": "safe"}', { prompt: 30, completion: 8 }) });
    const base = engine === 'vllm_openai' ? { openai_api_base: server.openAIBaseURL } : { base_url: server.openAIBaseURL };
    const parameters = { ...base, ...((entry as { parameters?: object }).parameters ?? {}), chat_template_kwargs: { enable_thinking: false } };
    const rails = new LLMRails(judgedBy({ engine, ...entry, parameters }));
    expect((await collect(rails.stream(ask('How are you?')))).items.join('')).toBe('Fine, thanks.');
    const request = server.requests.at(-1)!;
    expect(request.path).toBe('/v1/chat/completions');
    expect(request.headers.authorization).toBe(authorization);
    expect(request.body).toEqual({
      model,
      messages: [{ role: 'user', content: 'user: How are you?' }],
      temperature: 1e-20,
      max_tokens: 50,
      stop: ['<|eot_id|>'],
      chat_template_kwargs: { enable_thinking: false },
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(rails.explain().llmCalls).toEqual([
      expect.objectContaining({ task: 'content_safety_check_input $model=content_safety', provider: 'openai', model, totalTokens: 38, estimated: false }),
      expect.objectContaining({ task: 'general', provider: 'scripted' }),
    ]);
  });

  it('should refuse the input when the self-hosted NIM judge says unsafe, with no key set (a local NIM needs none)', async () => {
    setEnvironment({ [NVIDIA_KEY]: undefined });
    replay.server.plan({ transcript: openAIAnswer('{"User Safety": "unsafe", "Safety Categories": "S1"}') });
    const rails = new LLMRails(judgedBy({ engine: 'nim', model: 'nemoguard', parameters: { base_url: replay.server.openAIBaseURL } }));
    expect(await collect(rails.stream(ask('Something harmful')))).toEqual({ items: ["I'm sorry, I can't respond to that."], completed: true });
    expect(replay.server.requests.at(-1)!.headers.authorization).toBe('Bearer EMPTY');
  });

  it("should answer NeMo's internal error when the judge's server answers an HTTP error (fail closed)", async () => {
    setEnvironment({ [NVIDIA_KEY]: 'nvapi-test' });
    replay.server.plan({ status: 401, body: { error: { message: 'Invalid API key', type: 'invalid_request_error' } } });
    const rails = new LLMRails(judgedBy({ engine: 'nim', model: 'nemoguard', parameters: { base_url: replay.server.openAIBaseURL } }), { onInputViolation: 'error' });
    const { error } = await collect(rails.stream(ask('Hello')));
    expect((error as RailViolationError).toJSON().error).toEqual(expect.objectContaining({ type: 'internal_error', param: 'content safety check input $model=content_safety', code: 'rail_execution_failure' }));
  });

  it('should block an output window through a vllm_openai judge answering Llama Guard lines', async () => {
    replay.server.plan({ transcript: openAIAnswer('unsafe\nS2') });
    const config = RailsConfig.fromContent({
      models: [
        { type: 'main', engine: 'scripted', parameters: { responses: ['Here is how to do it.'] } },
        { type: 'llama_guard_2', engine: 'vllm_openai', parameters: { openai_api_base: replay.server.openAIBaseURL, model_name: 'meta-llama/Meta-Llama-Guard-2-8B' } },
      ],
      rails: { output: { flows: ['content safety check output $model=llama_guard_2'], streaming: { enabled: true, stream_first: false } } },
      prompts: [{ task: 'content_safety_check_output $model=llama_guard_2', content: 'User: {{ user_input }}\nAgent: {{ bot_response }}', output_parser: 'is_content_safe', max_tokens: 3 }],
    });
    const outcome = await collect(new LLMRails(config).stream(ask('How?')));
    expect(outcome.items).toEqual([]);
    expect((outcome.error as RailViolationError).info).toEqual(expect.objectContaining({ rail: 'content safety check output $model=llama_guard_2', verdict: expect.objectContaining({ details: { policyViolations: ['S2'] } }) }));
  });

  describe('the NVIDIA API catalog (nim without base_url)', () => {
    const realFetch = globalThis.fetch;
    afterEach(() => {
      globalThis.fetch = realFetch;
    });

    it('should ask https://integrate.api.nvidia.com/v1 with NVIDIA_API_KEY (the request is stopped before the network)', async () => {
      setEnvironment({ [NVIDIA_KEY]: 'nvapi-catalog' });
      const asked: { url: string; authorization: string | null }[] = [];
      globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
        asked.push({ url: String(input instanceof Request ? input.url : input), authorization: new Headers(init?.headers).get('authorization') });
        return new Response(JSON.stringify({ error: { message: 'stopped by the spec' } }), { status: 400, headers: { 'content-type': 'application/json' } });
      }) as typeof fetch;
      const rails = new LLMRails(judgedBy({ engine: 'nim', model: 'nvidia/llama-3.1-nemoguard-8b-content-safety' }));
      await collect(rails.stream(ask('Hello')));
      expect(asked).toEqual([{ url: 'https://integrate.api.nvidia.com/v1/chat/completions', authorization: 'Bearer nvapi-catalog' }]);
    });

    it('should be an environmental ConfigError naming NVIDIA_API_KEY when the key is missing', () => {
      setEnvironment({ [NVIDIA_KEY]: undefined });
      const build = () => new LLMRails(judgedBy({ engine: 'nim', model: 'nemoguard' }));
      expect(build).toThrow(ConfigError);
      expect(build).toThrow('models[1].engine: engine nim needs an API key: set the environment variable NVIDIA_API_KEY (or give LLMRails the model: { models: { content_safety: ... } })');
      try {
        build();
      } catch (error) {
        expect((error as ConfigError).issues[0]!.environment).toBe(NVIDIA_KEY);
      }
    });

    it("should say NeMo's sentence when the entry's own api_key_env_var is not set", () => {
      setEnvironment({ TEAM_NIM_KEY: undefined });
      expect(() => new LLMRails(judgedBy({ engine: 'nim', model: 'nemoguard', parameters: { base_url: 'http://127.0.0.1:9/v1' }, api_key_env_var: 'TEAM_NIM_KEY' }))).toThrow(
        "models[1].api_key_env_var: Model API Key environment variable 'TEAM_NIM_KEY' not set: engine nim needs an API key",
      );
    });
  });
});
