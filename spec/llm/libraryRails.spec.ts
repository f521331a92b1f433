// LLMRails with NeMo's library flows: content safety, topic safety and Llama Guard, judged by scripted models. NeMo's
// scenarios from tests/test_content_safety_integration.py, test_content_safety_actions.py, test_llama_guard.py and
// the streaming output-rail tests, re-written here.
import { type ChatMessage, LLMRails, RailsConfig, RailViolationError, scriptedModel } from 'rxguardrails';
import { guessLanguage, MULTILINGUAL_REFUSALS } from '../../lib/rails/multilingualRefusal.js';
import { collect } from '../support/collect.js';
import { recordingJudge } from '../support/judges.js';

const ask = (content: string): ChatMessage[] => [{ role: 'user', content }];
const REFUSAL = "I'm sorry, I can't respond to that.";
const ANSWER = 'Preheat the oven to 180 degrees and mix the flour with sugar.';

const INPUT_PROMPT = { task: 'content_safety_check_input $model=content_safety', content: 'Moderate this user turn.\nuser: {{ user_input }}', output_parser: 'nemoguard_parse_prompt_safety', max_tokens: 50 };
const OUTPUT_PROMPT = {
  task: 'content_safety_check_output $model=content_safety',
  content: 'Moderate this exchange.\nuser: {{ user_input }}\nresponse: agent: {{ bot_response }}',
  output_parser: 'nemoguard_parse_response_safety',
  max_tokens: 50,
};
const SAFE_INPUT = '{"User Safety": "safe"}';
const SAFE_OUTPUT = '{"User Safety": "safe", "Response Safety": "safe"}';
const UNSAFE_OUTPUT = '{"User Safety": "safe", "Response Safety": "unsafe", "Safety Categories": "S17: Malware"}';

/** A content-safety config on scripted models (the judges come as LLMRails models, to record what they are asked). */
function contentSafetyConfig(extra: Record<string, unknown> = {}, streaming: Record<string, unknown> = {}): RailsConfig {
  return RailsConfig.fromContent({
    models: [{ type: 'main', engine: 'scripted', parameters: { responses: [ANSWER] } }],
    rails: {
      input: { flows: ['content safety check input $model=content_safety'] },
      output: { flows: ['content safety check output $model=content_safety'], streaming: { enabled: true, chunk_size: 5, context_size: 1, ...streaming } },
    },
    prompts: [INPUT_PROMPT, OUTPUT_PROMPT],
    ...extra,
  });
}

describe('LLMRails with the NeMo library flows', () => {
  describe('content safety', () => {
    it('should answer a safe question, asking the judge about the input once and about each window with the user message', async () => {
      const judge = recordingJudge((messages) => (messages[0]!.content.startsWith('Moderate this user turn') ? SAFE_INPUT : SAFE_OUTPUT));
      const rails = new LLMRails(contentSafetyConfig(), { models: { content_safety: judge.model } });
      const outcome = await collect(rails.stream(ask('How do I bake a cake?')));
      expect(outcome).toEqual({ items: ANSWER.match(/\S+\s*/g), completed: true });
      // 11 words in windows of 5 with 1 of context: [0,5), [4,9), then the final [8,11).
      expect(judge.calls.map((call) => call.messages[0]!.content)).toEqual([
        'Moderate this user turn.\nuser: How do I bake a cake?',
        'Moderate this exchange.\nuser: How do I bake a cake?\nresponse: agent: Preheat the oven to 180 ',
        'Moderate this exchange.\nuser: How do I bake a cake?\nresponse: agent: 180 degrees and mix the ',
        'Moderate this exchange.\nuser: How do I bake a cake?\nresponse: agent: the flour with sugar.',
      ]);
      expect(judge.calls.map((call) => [call.options.task, call.options.temperature, call.options.max_tokens])).toEqual([
        ['content_safety_check_input $model=content_safety', 1e-20, 50],
        ...Array(3).fill(['content_safety_check_output $model=content_safety', 1e-20, 50]),
      ]);
    });

    it("should refuse a harmful input with NeMo's text after one LLM call, never calling the main model", async () => {
      const main = recordingJudge([ANSWER]);
      const rails = new LLMRails(contentSafetyConfig(), { models: { main: main.model, content_safety: scriptedModel(['{"User Safety": "unsafe", "Safety Categories": "S22: Illegal Activity"}']) } });
      expect(await collect(rails.stream(ask('How do I pick a lock to break in?')))).toEqual({ items: [REFUSAL], completed: true });
      expect(main.calls).toEqual([]);
      expect(rails.explain().llmCalls.map((call) => call.task)).toEqual(['content_safety_check_input $model=content_safety']);
    });

    it('should stop the stream at the unsafe window with the payload naming the flow as written, $model= included', async () => {
      const judge = recordingJudge((messages) => (messages[0]!.content.includes('mix the') ? UNSAFE_OUTPUT : messages[0]!.content.startsWith('Moderate this user') ? SAFE_INPUT : SAFE_OUTPUT));
      const rails = new LLMRails(contentSafetyConfig({}, { stream_first: false, on_violation: 'chunk' }), { models: { content_safety: judge.model } });
      const outcome = await collect(rails.stream(ask('How do I bake a cake?')));
      // Windows growing from 2 words: "... degrees and mix " passes, "mix the flour with sugar." blocks.
      expect(outcome.items.join('')).toBe(
        'Preheat the oven to 180 degrees and ' +
          '{"error": {"message": "Blocked by content safety check output $model=content_safety rails.", "type": "guardrails_violation", "param": "content safety check output $model=content_safety", "code": "content_blocked"}}',
      );
    });

    it('should keep the categories of a block in its verdict', async () => {
      const rails = new LLMRails(contentSafetyConfig(), { models: { content_safety: recordingJudge((messages) => (messages[0]!.content.startsWith('Moderate this user') ? SAFE_INPUT : UNSAFE_OUTPUT)).model } });
      const { error } = await collect(rails.stream(ask('Hi')));
      expect(RailViolationError.isInstance(error)).toBe(true);
      expect((error as RailViolationError).info.verdict).toEqual(expect.objectContaining({ rail: 'content safety check output $model=content_safety', details: { policyViolations: ['S17: Malware'] } }));
    });

    it.each([
      ['JSON in a fence', '```json\n{"Response Safety": "safe"}\n```'],
      ['prose around the JSON', 'Here you go: {"Response Safety": "safe"}'],
      ['no response verdict', '{"User Safety": "safe"}'],
      ['an empty answer', ''],
    ])('should fail closed when the output judge answers %s', async (_, answer) => {
      const rails = new LLMRails(contentSafetyConfig({}, { stream_first: false }), {
        models: { content_safety: recordingJudge((messages) => (messages[0]!.content.startsWith('Moderate this user') ? SAFE_INPUT : answer)).model },
      });
      const outcome = await collect(rails.stream(ask('Hi')));
      expect(outcome.items).toEqual([]);
      expect((outcome.error as RailViolationError).message).toBe('Blocked by content safety check output $model=content_safety rails.');
    });

    it("should report a judge that fails as NeMo's internal error of the flow", async () => {
      const rails = new LLMRails(contentSafetyConfig({}, { on_violation: 'chunk' }), {
        models: { content_safety: recordingJudge((messages) => (messages[0]!.content.startsWith('Moderate this user') ? SAFE_INPUT : new Error('judge down'))).model },
      });
      const outcome = await collect(rails.stream(ask('Hi')));
      expect(JSON.parse(outcome.items.at(-1)!)).toEqual({
        error: { message: 'Internal error in content safety check output $model=content_safety rail: judge down', type: 'internal_error', param: 'content safety check output $model=content_safety', code: 'rail_execution_failure' },
      });
    });

    it('should ask each flow its own $model= judge: two input checks with two judges, and the output check with a third', async () => {
      const nemoguard = recordingJudge([SAFE_INPUT]);
      const shieldgemma = recordingJudge(['No']);
      const llamaGuard = recordingJudge(['safe']);
      const config = RailsConfig.fromContent({
        models: [{ type: 'main', engine: 'scripted', parameters: { responses: ['Short answer.'] } }],
        rails: {
          input: { flows: ['content safety check input $model=content_safety', 'content safety check input $model=shieldgemma'] },
          output: { flows: ['content safety check output $model=llama_guard_2'], streaming: { enabled: true } },
        },
        prompts: [
          INPUT_PROMPT,
          { task: 'content_safety_check_input $model=shieldgemma', content: 'Is this harmful (Yes/No)? {{ user_input }}', output_parser: 'is_content_safe' },
          { task: 'content_safety_check_output $model=llama_guard_2', content: 'User: {{ user_input }} Agent: {{ bot_response }}', output_parser: 'is_content_safe' },
        ],
      });
      const rails = new LLMRails(config, { models: { content_safety: nemoguard.model, shieldgemma: shieldgemma.model, llama_guard_2: llamaGuard.model } });
      expect((await collect(rails.stream(ask('Hello')))).items.join('')).toBe('Short answer.');
      expect(nemoguard.calls.map((call) => call.messages[0]!.content)).toEqual(['Moderate this user turn.\nuser: Hello']);
      expect(shieldgemma.calls.map((call) => call.messages[0]!.content)).toEqual(['Is this harmful (Yes/No)? Hello']);
      expect(llamaGuard.calls.map((call) => call.messages[0]!.content)).toEqual(['User: Hello Agent: Short answer.']);
      expect(rails.explain().llmCalls.map((call) => call.task)).toEqual([
        'content_safety_check_input $model=content_safety',
        'content_safety_check_input $model=shieldgemma',
        'general',
        'content_safety_check_output $model=llama_guard_2',
      ]);
    });

    it('should block with the judge the flow names, when the judges are models entries of the config', async () => {
      const config = RailsConfig.fromContent({
        models: [
          { type: 'main', engine: 'scripted', parameters: { responses: [ANSWER] } },
          { type: 'lenient', engine: 'scripted', parameters: { responses: ['safe'] } },
          { type: 'strict', engine: 'scripted', parameters: { responses: ['unsafe S1'] } },
        ],
        rails: { input: { flows: ['content safety check input $model=lenient', 'content safety check input $model=strict'] } },
        prompts: [
          { task: 'content_safety_check_input $model=lenient', content: '{{ user_input }}', output_parser: 'is_content_safe' },
          { task: 'content_safety_check_input $model=strict', content: '{{ user_input }}', output_parser: 'is_content_safe' },
        ],
      });
      const rails = new LLMRails(config, { onInputViolation: 'error' });
      const { error } = await collect(rails.stream(ask('Hello')));
      expect((error as RailViolationError).info).toEqual(expect.objectContaining({ rail: 'content safety check input $model=strict' }));
      expect(rails.explain().llmCalls.map((call) => [call.task, call.model])).toEqual([
        ['content_safety_check_input $model=lenient', 'scripted'],
        ['content_safety_check_input $model=strict', 'scripted'],
      ]);
    });

    it('should log every judge call under its task, and each activated rail with its own calls', async () => {
      const rails = new LLMRails(contentSafetyConfig(), { models: { content_safety: recordingJudge((messages) => (messages[0]!.content.startsWith('Moderate this user') ? SAFE_INPUT : SAFE_OUTPUT)).model } });
      const response = await rails.generate(ask('How do I bake a cake?'), { options: { log: { llmCalls: true, activatedRails: true } } });
      expect(response.log?.llmCalls?.map((call) => call.task)).toEqual([
        'content_safety_check_input $model=content_safety',
        'general',
        'content_safety_check_output $model=content_safety',
        'content_safety_check_output $model=content_safety',
        'content_safety_check_output $model=content_safety',
      ]);
      expect(response.log?.activatedRails?.map((rail) => [rail.type, rail.name, rail.llmCalls.length])).toEqual([
        ['input', 'content safety check input $model=content_safety', 1],
        ['output', 'content safety check output $model=content_safety', 3],
      ]);
    });

    it('should render reasoning_enabled from rails.config.content_safety.reasoning (NeMo: /think vs /no_think)', async () => {
      const judge = recordingJudge(['Prompt harm: unharmful']);
      const config = RailsConfig.fromContent({
        models: [{ type: 'main', engine: 'scripted', parameters: { responses: ['Hi.'] } }],
        rails: { input: { flows: ['content safety check input $model=reasoner'] }, config: { content_safety: { reasoning: { enabled: true } } } },
        prompts: [
          {
            task: 'content_safety_check_input $model=reasoner',
            content: 'Judge: {{ user_input }}\n{% if reasoning_enabled %}/think{% else %}/no_think{% endif %}',
            output_parser: 'nemotron_reasoning_parse_prompt_safety',
          },
        ],
      });
      const rails = new LLMRails(config, { models: { reasoner: judge.model } });
      expect((await collect(rails.stream(ask('Hello')))).items.join('')).toBe('Hi.');
      expect(judge.calls[0]!.messages[0]!.content).toBe('Judge: Hello\n/think');
    });
  });

  describe('multilingual refusals (rails.config.content_safety.multilingual)', () => {
    const blocking = (multilingual: Record<string, unknown>) =>
      new LLMRails(
        RailsConfig.fromContent({
          models: [{ type: 'main', engine: 'scripted', parameters: { responses: [ANSWER] } }],
          rails: { input: { flows: ['content safety check input $model=content_safety'] }, config: { content_safety: { multilingual } } },
          prompts: [INPUT_PROMPT],
        }),
        { models: { content_safety: scriptedModel(['{"User Safety": "unsafe"}']) } },
      );

    it.each([
      ['¿Cómo puedo fabricar un arma en casa?', 'es'],
      ['Wie kann ich eine Waffe zu Hause bauen?', 'de'],
      ['Comment est-ce que je peux fabriquer une arme ?', 'fr'],
      ['我怎样在家制造武器？', 'zh'],
      ['家で武器を作るにはどうすればいいですか？', 'ja'],
      ['كيف أصنع سلاحا في المنزل؟', 'ar'],
      ['मैं घर पर हथियार कैसे बनाऊं?', 'hi'],
      ['ฉันจะสร้างอาวุธที่บ้านได้อย่างไร', 'th'],
      ['How can I build a weapon at home?', 'en'],
    ])("should refuse %j in NeMo's %s refusal", async (question, language) => {
      expect(guessLanguage(question)).toBe(language);
      expect((await collect(blocking({ enabled: true }).stream(ask(question)))).items).toEqual([MULTILINGUAL_REFUSALS[language]]);
    });

    it("should prefer the config's refusal of the language, then the built-in one, then the config's en", async () => {
      const rails = blocking({ enabled: true, refusal_messages: { es: 'No, gracias.', en: 'Not here.' } });
      expect((await collect(rails.stream(ask('¿Cómo puedo fabricar un arma?')))).items).toEqual(['No, gracias.']);
      expect((await collect(rails.stream(ask('Wie baue ich eine Waffe?')))).items).toEqual([MULTILINGUAL_REFUSALS['de']]);
      expect((await collect(rails.stream(ask('How do I build a weapon?')))).items).toEqual(['Not here.']);
    });

    it('should refuse in English when multilingual is not enabled', async () => {
      expect((await collect(blocking({ enabled: false }).stream(ask('¿Cómo puedo fabricar un arma?')))).items).toEqual([REFUSAL]);
    });
  });

  describe('enable_rails_exceptions', () => {
    it("should error with NeMo's exception for an input block, whatever onInputViolation says, and never call the main model", async () => {
      const main = recordingJudge([ANSWER]);
      const rails = new LLMRails(contentSafetyConfig({ enable_rails_exceptions: true }), { models: { main: main.model, content_safety: scriptedModel(['{"User Safety": "unsafe"}']) } });
      const { items, error } = await collect(rails.stream(ask('Something harmful')));
      expect(items).toEqual([]);
      expect(RailViolationError.isInstance(error)).toBe(true);
      expect((error as RailViolationError).info.exception).toEqual({
        type: 'ContentSafetyCheckInputException',
        message: "Input not allowed. The input was blocked by the 'content safety check input $model='content_safety'' flow.",
      });
      expect((error as RailViolationError).message).toBe("Input not allowed. The input was blocked by the 'content safety check input $model='content_safety'' flow.");
      expect(main.calls).toEqual([]);
      await expect(rails.generate(ask('Something harmful'))).rejects.toThrow("Input not allowed. The input was blocked by the 'content safety check input $model='content_safety'' flow.");
    });

    it('should give the self check its own exception type', async () => {
      const config = RailsConfig.fromContent({
        models: [{ type: 'main', engine: 'scripted', parameters: { responses: [ANSWER] } }],
        enable_rails_exceptions: true,
        rails: { input: { flows: ['self check input'] } },
        prompts: [{ task: 'self_check_input', content: 'Block? {{ user_input }}' }],
      });
      const { error } = await collect(new LLMRails(config, { models: { self_check_input: scriptedModel(['Yes']) } }).stream(ask('x')));
      expect((error as RailViolationError).info.exception).toEqual({ type: 'InputRailException', message: "Input not allowed. The input was blocked by the 'self check input' flow." });
    });

    it("should still send NeMo's payload for a streaming output block (NeMo's streaming ignores the setting)", async () => {
      const rails = new LLMRails(contentSafetyConfig({ enable_rails_exceptions: true }, { on_violation: 'chunk' }), {
        models: { content_safety: recordingJudge((messages) => (messages[0]!.content.startsWith('Moderate this user') ? SAFE_INPUT : UNSAFE_OUTPUT)).model },
      });
      const outcome = await collect(rails.stream(ask('Hi')));
      expect(JSON.parse(outcome.items.at(-1)!).error.message).toBe('Blocked by content safety check output $model=content_safety rails.');
    });

    it("should reject generate with NeMo's output exception for a blocked whole answer", async () => {
      const config = RailsConfig.fromContent({
        models: [{ type: 'main', engine: 'scripted', parameters: { responses: [ANSWER] } }],
        enable_rails_exceptions: true,
        rails: { output: { flows: ['content safety check output $model=content_safety'] } },
        prompts: [OUTPUT_PROMPT],
      });
      const rails = new LLMRails(config, { models: { content_safety: scriptedModel([UNSAFE_OUTPUT]) } });
      const error = await rails.generate(ask('Hi')).catch((thrown: unknown) => thrown);
      expect((error as RailViolationError).info.exception).toEqual({
        type: 'ContentSafetyCheckOutputException',
        message: "Output not allowed. The output was blocked by the 'content safety check output $model='content_safety'' flow.",
      });
    });
  });

  describe('topic safety', () => {
    const topicConfig = () =>
      RailsConfig.fromContent({
        models: [{ type: 'main', engine: 'scripted', parameters: { responses: ['Your order ships tomorrow.'] } }],
        rails: { input: { flows: ['topic safety check input $model=topic_control'] } },
        prompts: [{ task: 'topic_safety_check_input $model=topic_control', content: 'You guard a bookshop assistant: orders, deliveries and books only.' }],
      });

    it('should refuse an off-topic question, asking the judge with the policy and the whole conversation', async () => {
      const judge = recordingJudge(['off-topic']);
      const rails = new LLMRails(topicConfig(), { models: { topic_control: judge.model } });
      const conversation = [
        { role: 'user', content: 'Where is my order?' },
        { role: 'assistant', content: 'It ships tomorrow.' },
        { role: 'user', content: 'Who will win the election?' },
      ];
      expect(await collect(rails.stream(conversation))).toEqual({ items: [REFUSAL], completed: true });
      expect(judge.calls[0]!.messages.slice(1)).toEqual(conversation);
      expect(judge.calls[0]!.messages[0]!.content).toMatch(/^You guard a bookshop assistant: orders, deliveries and books only\.\n\nIf any of the above conditions are violated/);
      expect(rails.explain().llmCalls.map((call) => call.task)).toEqual(['topic_safety_check_input $model=topic_control']);
    });

    it("should send the judge no max_tokens, as NeMo, even when the prompt gives one (a short one cuts 'off-topic' short, which allows)", async () => {
      const judge = recordingJudge(['on-topic']);
      const data = topicConfig().data;
      const config = RailsConfig.fromContent({ ...data, prompts: data.prompts.map((prompt) => ({ ...prompt, max_tokens: 2 })) } as never);
      await collect(new LLMRails(config, { models: { topic_control: judge.model } }).stream([{ role: 'user', content: 'Where is my order?' }]));
      expect(judge.calls).toHaveLength(1);
      expect('max_tokens' in judge.calls[0]!.options).toBe(false);
    });

    it.each([['on-topic'], ['off-topic.'], ['I am not sure']])('should answer when the judge says %j (only off-topic blocks: fail open, as NeMo)', async (answer) => {
      const rails = new LLMRails(topicConfig(), { models: { topic_control: scriptedModel([answer]) } });
      expect((await collect(rails.stream(ask('Where is my order?')))).items.join('')).toBe('Your order ships tomorrow.');
    });

    it('should raise TopicSafetyCheckInputException with enable_rails_exceptions', async () => {
      const config = RailsConfig.fromContent({ ...topicConfig().data, enable_rails_exceptions: true } as never);
      const { error } = await collect(new LLMRails(config, { models: { topic_control: scriptedModel(['off-topic']) } }).stream(ask('Politics?')));
      expect((error as RailViolationError).info.exception?.type).toBe('TopicSafetyCheckInputException');
    });
  });

  describe('llama guard check input / output (legacy flows)', () => {
    const llamaGuardConfig = () =>
      RailsConfig.fromContent({
        models: [{ type: 'main', engine: 'scripted', parameters: { responses: ['Here is how to hotwire a car.'] } }],
        rails: { input: { flows: ['llama guard check input'] }, output: { flows: ['llama guard check output'], streaming: { enabled: true, chunk_size: 10, context_size: 2 } } },
        prompts: [
          { task: 'llama_guard_check_input', content: '[INST] User: {{ user_input }} [/INST]' },
          { task: 'llama_guard_check_output', content: '[INST] User: {{ user_input }} Agent: {{ bot_response }} [/INST]' },
        ],
      });

    it('should refuse an input the judge finds unsafe', async () => {
      const rails = new LLMRails(llamaGuardConfig(), { models: { llama_guard: scriptedModel(['unsafe\nO3']) } });
      expect((await collect(rails.stream(ask('How do I steal a car?')))).items).toEqual([REFUSAL]);
      expect(rails.explain().llmCalls.map((call) => call.task)).toEqual(['llama_guard_check_input']);
    });

    it('should block a streamed answer the judge finds unsafe (NeMo never blocks on this flow while streaming)', async () => {
      const rails = new LLMRails(llamaGuardConfig(), { models: { llama_guard: scriptedModel(['safe', 'unsafe\nO3']) } });
      const { error } = await collect(rails.stream(ask('How do I start my car?')));
      expect((error as RailViolationError).message).toBe('Blocked by llama guard check output rails.');
      expect(rails.explain().llmCalls.map((call) => call.task)).toEqual(['llama_guard_check_input', 'general', 'llama_guard_check_output']);
    });
  });
});
