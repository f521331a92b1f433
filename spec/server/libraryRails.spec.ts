// The server on NeMo's content-safety example config (examples/configs/content_safety): its usage counts every judge
// call, each recorded under NeMo's task name, and a judged block reaches the client as NeMo's payload naming the flow.
// Then the sensitive-data example, masking the answer: its SSE frames carry masked text.
import { APIError } from 'openai';
import { type ChatModel, type LlmCallInfo, scriptedModel } from 'rxguardrails';
import { ask, type Running, start } from './serverHarness.js';

/** A scripted model whose calls are also written down here (task and tokens), wherever the server records them. */
function watched(model: ChatModel, calls: LlmCallInfo[]): ChatModel {
  return { ...model, stream: (messages, options = {}) => model.stream(messages, { ...options, usage: { next: (call) => (options.usage?.next(call), calls.push(call)) } }) };
}

describe('the server on the content-safety example', () => {
  let running: Running;
  const calls: LlmCallInfo[] = [];
  beforeAll(async () => {
    running = await start({
      configDir: 'examples/configs/content_safety',
      models: {
        main: watched(scriptedModel(['Your order ships tomorrow.', 'Jane Doe lives at 12 Elm Street.']), calls),
        content_safety: watched(
          scriptedModel([
            '{"User Safety": "safe"}',
            '{"User Safety": "safe", "Response Safety": "safe"}',
            '{"User Safety": "safe"}',
            '{"User Safety": "safe", "Response Safety": "unsafe", "Safety Categories": "S9: PII/Privacy"}',
          ]),
          calls,
        ),
        topic_control: watched(scriptedModel(['on-topic']), calls),
      },
    });
  });
  afterAll(() => running.close());

  it("should count every judge call in the answer's usage, each recorded under NeMo's task", async () => {
    const completion = await running.client.chat.completions.create({ model: 'm', messages: ask('Where is my order?') });
    expect(completion.choices[0]!.message.content).toBe('Your order ships tomorrow.');
    expect(calls.map((call) => call.task)).toEqual([
      'content_safety_check_input $model=content_safety',
      'topic_safety_check_input $model=topic_control',
      'general',
      'content_safety_check_output $model=content_safety',
    ]);
    const sum = (key: 'promptTokens' | 'completionTokens') => calls.reduce((total, call) => total + (call[key] ?? 0), 0);
    expect(completion.usage).toEqual(expect.objectContaining({ prompt_tokens: sum('promptTokens'), completion_tokens: sum('completionTokens') }));
  });

  it("should end a stream the output judge blocks with NeMo's payload naming the flow as written", async () => {
    const stream = await running.client.chat.completions.create({ model: 'm', messages: ask('Who wrote my book?'), stream: true });
    const received: string[] = [];
    const error = await (async () => {
      for await (const chunk of stream) received.push(chunk.choices[0]?.delta?.content ?? '');
    })().catch((thrown: unknown) => thrown);
    expect(received.join('')).toBe('');
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).error).toEqual({
      message: 'Blocked by content safety check output $model=content_safety rails.',
      type: 'guardrails_violation',
      param: 'content safety check output $model=content_safety',
      code: 'content_blocked',
    });
  });
});

describe("the server on the sensitive-data example (examples/configs/sensitive_data, stream_first: False)", () => {
  const masked = 'Write to <EMAIL_ADDRESS> or call <PHONE_NUMBER>; to pay, the card on file is <CREDIT_CARD>.';
  let running: Running;
  const seen: string[] = [];
  beforeAll(async () => {
    const main = scriptedModel(['Write to help@example.org or call (555) 234-5678; to pay, the card on file is 4111 1111 1111 1111.']);
    running = await start({ configDir: 'examples/configs/sensitive_data', models: { main: { ...main, stream: (messages, options) => (seen.push(messages.at(-1)!.content), main.stream(messages, options)) } } });
  });
  afterAll(() => running.close());

  it('should stream SSE frames that carry the masked answer, never a raw token of an entity', async () => {
    const stream = await running.client.chat.completions.create({ model: 'm', messages: ask('How do I reach support? I am bob@example.net'), stream: true });
    const received: string[] = [];
    for await (const chunk of stream) received.push(chunk.choices[0]?.delta?.content ?? '');
    expect(received.join('')).toBe(masked);
    for (const content of received) expect(content).not.toMatch(/\d|@/);
    // The user's message was masked before the model saw it.
    expect(seen.at(-1)).toBe('How do I reach support? I am <EMAIL_ADDRESS>');
  });

  it('should answer the masked answer without streaming', async () => {
    const completion = await running.client.chat.completions.create({ model: 'm', messages: ask('How do I reach support?') });
    expect(completion.choices[0]!.message.content).toBe(masked);
  });
});
