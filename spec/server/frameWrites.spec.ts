// How many socket writes the server's SSE frames take. A write is a system call, the largest cost of a streamed
// answer under load (a third of the server's time in the hostile benchmark), so the frames of a burst go out in one:
// a provider's events that came in one network read, a model that answers at once. A token that arrives alone is
// still written at once (the specs of sseResponse's timing are in server.spec.ts and hostileReaders.spec.ts).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAIClient, useReplayServer } from '../support/clients.js';
import { sse } from '../support/replayServer.js';
import { ask, type Running, start } from './serverHarness.js';

const DELTAS = 300;
const chunk = (content: string) => ({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] });
const words = Array.from({ length: DELTAS }, (_, index) => `w${index} `);

describe('the SSE frames of a streamed answer, in socket writes', () => {
  const replay = useReplayServer();
  let root: string;
  let running: Running;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rxguardrails-writes-'));
    const configs = {
      openai: 'models:\n  - type: main\n    engine: openai\n    model: gpt-4o-mini\nstreaming: True\n',
      paced: 'models:\n  - type: main\n    engine: scripted\n    parameters: { responses: ["one two three four"], delay_ms: 30 }\nstreaming: True\n',
    };
    for (const [id, yaml] of Object.entries(configs)) {
      mkdirSync(join(root, id));
      writeFileSync(join(root, id, 'config.yml'), yaml);
    }
    running = await start({ configDir: root, clients: { openai: openAIClient(replay.server) }, onWarning: () => undefined });
  });
  afterAll(async () => {
    await running.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** Streams an answer from a config through the real openai client; counts the writes of its response. */
  async function writesOf(configId: string): Promise<{ text: string; writes: number; turns: number }> {
    const { port } = running.server.address() as AddressInfo;
    const { write } = ServerResponse.prototype;
    let writes = 0;
    // This server's responses only (the replay server answers through ServerResponse too), read as they write: a
    // response lets go of its socket when it ends.
    const spy = jest.spyOn(ServerResponse.prototype, 'write').mockImplementation(function (this: ServerResponse, ...args: Parameters<ServerResponse['write']>) {
      if (this.socket?.localPort === port) writes++;
      return (write as (...parameters: unknown[]) => boolean).apply(this, args);
    });
    // The event loop's turns meanwhile: the frames of one turn's burst go out in one write.
    let turns = 0;
    let counting = true;
    const countTurn = () => {
      turns++;
      if (counting) setImmediate(countTurn);
    };
    setImmediate(countTurn);
    try {
      const stream = await running.client.chat.completions.create({ model: 'any', messages: ask('Go'), stream: true, config_id: configId } as never);
      let text = '';
      for await (const part of stream as unknown as AsyncIterable<{ choices: { delta?: { content?: string } }[] }>) text += part.choices[0]?.delta?.content ?? '';
      return { text, writes, turns };
    } finally {
      counting = false;
      spy.mockRestore();
    }
  }

  it("should write a provider's events that came in one network read in a few writes, not one each", async () => {
    const transcript = sse([...words.map(chunk), { ...chunk(''), choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }], { done: true });
    // The whole transcript in one piece: the SDK reads the events at once.
    replay.server.plan({ transcript, splitAt: [transcript.length] });
    const { text, writes, turns } = await writesOf('openai');
    expect(text).toBe(words.join(''));
    // One write per event made 300. A burst is cut where the source gives the event loop back (every 2 ms, so more
    // often on a loaded machine): at most one write per turn of the loop, whatever the machine's speed.
    expect(writes).toBeLessThan(DELTAS / 5);
    expect(writes).toBeLessThanOrEqual(turns);
  });

  it('should write each token of a paced answer as it comes, not wait for another', async () => {
    const { text, writes } = await writesOf('paced');
    expect(text).toBe('one two three four');
    // The role frame goes with the first token; the next two come 30 ms apart, each alone; the last goes with the
    // finish frame and [DONE], in the response's end.
    expect(writes).toBe(3);
  });
});
