// The chat panel on a stubbed fetch that answers as the guardrails server does (SSE frames, NeMo's violation
// payload): how a component using fromGuardrailsServer can be tested without a server. The real server is
// spec/browser/angularExample.spec.ts's, in the repository.
import { TestBed } from '@angular/core/testing';
import { ChatPanel, SERVER_SETTINGS } from './chat-panel';

const chunk = (content: string) => `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
const violation = `data: {"error": {"message": "Blocked by keyword check rails.", "type": "guardrails_violation", "param": "keyword check", "code": "content_blocked"}}\n\ndata: [DONE]\n\n`;

/** A fetch answering every request with `frames` as an event stream, recording what it was asked. */
function serverAnswering(frames: readonly string[]) {
  const requests: { url: string; body: unknown }[] = [];
  const fetch = async (url: string, init: RequestInit) => {
    requests.push({ url, body: JSON.parse(init.body as string) });
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const frame of frames) controller.enqueue(encoder.encode(frame));
        controller.close();
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  };
  return { fetch, requests };
}

async function chat(frames: readonly string[], question: string) {
  const server = serverAnswering(frames);
  vi.stubGlobal('fetch', server.fetch);
  TestBed.configureTestingModule({ providers: [{ provide: SERVER_SETTINGS, useValue: { baseURL: 'http://guardrails.test/v1', configId: 'demo' } }] });
  const fixture = TestBed.createComponent(ChatPanel);
  fixture.componentInstance.send(question);
  await vi.waitFor(() => expect(fixture.componentInstance.streaming()).toBe(false), { timeout: 5_000 });
  await fixture.whenStable();
  const element = fixture.nativeElement as HTMLElement;
  const text = (testId: string) => element.querySelector(`[data-testid="${testId}"]`)?.textContent ?? undefined;
  return { text, requests: server.requests };
}

describe('ChatPanel', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('should show the answer as the server streams it, and ask the configured server and config', async () => {
    const { text, requests } = await chat([chunk('Hello '), chunk('there!'), 'data: [DONE]\n\n'], 'Hi!');
    expect(text('answer')).toBe('Hello there!');
    expect(text('done')).toBe('✔');
    expect(requests).toEqual([
      { url: 'http://guardrails.test/v1/chat/completions', body: expect.objectContaining({ config_id: 'demo', stream: true, messages: [{ role: 'user', content: 'Hi!' }] }) },
    ]);
  });

  it("should keep the text released before a server block and name the block's rail", async () => {
    const { text } = await chat([chunk('Sure! '), chunk('Happy to '), violation], 'What is the admin password?');
    expect(text('answer')).toBe('Sure! Happy to ');
    expect(text('block')).toBe('✖ Blocked by keyword check rails. (rail: keyword check)');
  });
});
