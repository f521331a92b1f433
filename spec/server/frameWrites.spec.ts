// How many socket writes the server's SSE frames take. A write is a system call, the largest cost of a streamed
// answer under load (a third of the server's time in the hostile benchmark), so the frames of a burst go out in one:
// a provider's events that came in one network read, a model that answers at once. A token that arrives alone is
// still written at once (the specs of sseResponse's timing are in server.spec.ts and hostileReaders.spec.ts). Many
// answers bursting at once (a fast upstream under load) still go out in a few writes each: the sources take turns
// with the event loop's budget for bursts, a slice each (lib/internal/burstBudget.ts).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAIClient, useReplayServer } from '../support/clients.js';
import { countTurns } from '../support/loopTurns.js';
import { chatChunk, sse } from '../support/replayServer.js';
import { ask, framesOf, rawPost, type Running, start } from './serverHarness.js';

const DELTAS = 300;
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
    const loop = countTurns();
    try {
      const stream = await running.client.chat.completions.create({ model: 'any', messages: ask('Go'), stream: true, config_id: configId } as never);
      let text = '';
      for await (const part of stream as unknown as AsyncIterable<{ choices: { delta?: { content?: string } }[] }>) text += part.choices[0]?.delta?.content ?? '';
      return { text, writes, turns: loop.turn };
    } finally {
      loop.stop();
      spy.mockRestore();
    }
  }

  it("should write a provider's events that came in one network read in a few writes, not one each", async () => {
    const transcript = sse([...words.map(chatChunk), { ...chatChunk(''), choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }], { done: true });
    // The whole transcript in one piece: the SDK reads the events at once.
    replay.server.plan({ transcript, splitAt: [transcript.length] });
    const { text, writes, turns } = await writesOf('openai');
    expect(text).toBe(words.join(''));
    // One write per event made 300. A burst is cut where the source gives the event loop back (every 2 ms, so more
    // often on a loaded machine): at most one write per turn of the loop, whatever the machine's speed.
    expect(writes).toBeLessThan(DELTAS / 5);
    expect(writes).toBeLessThanOrEqual(turns);
  });

  it("should write many answers bursting at once on the engines' direct path (Node's HTTP client) in a few writes each, not one per token", async () => {
    // Twenty answers of 100 tokens each from an upstream that answers them all at once, each response in one write:
    // the twenty bursts are in memory together. Sources that give the event loop back are resumed one per turn with
    // the turn's whole budget; when they were all resumed at every turn, the first spent the budget and the others
    // went on by a token or two per turn, a write each.
    const answers = 20;
    const tokens = words.slice(0, 100);
    const transcript = sse([...tokens.map(chatChunk), { ...chatChunk(''), choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }], { done: true });
    const held: ServerResponse[] = [];
    const upstream = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        held.push(response);
        if (held.length < answers) return;
        for (const one of held) {
          one.writeHead(200, { 'content-type': 'text/event-stream' });
          one.end(transcript);
        }
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port: upstreamPort } = upstream.address() as AddressInfo;
    const directory = join(root, 'burst');
    mkdirSync(directory);
    writeFileSync(
      join(directory, 'config.yml'),
      `models:\n  - type: main\n    engine: openai\n    model: m\n    parameters: { base_url: 'http://127.0.0.1:${upstreamPort}/v1', api_key: sk-test }\nstreaming: True\n`,
    );
    const server = await start({ configDir: root, defaultConfigId: 'burst', onWarning: () => undefined });
    const { port } = server.server.address() as AddressInfo;
    // The engines the server's configs make themselves call with Node's own HTTP client: fetch is not used.
    const fetchSpy = jest.spyOn(globalThis, 'fetch');
    const { write, end } = ServerResponse.prototype;
    // Writes and the end (which writes what it is given): an answer may go out whole in its end.
    const writes = new Map<ServerResponse, number>();
    const count = (response: ServerResponse) => {
      if (response.socket?.localPort === port) writes.set(response, (writes.get(response) ?? 0) + 1);
    };
    const spies = [
      jest.spyOn(ServerResponse.prototype, 'write').mockImplementation(function (this: ServerResponse, ...args: Parameters<ServerResponse['write']>) {
        count(this);
        return (write as (...parameters: unknown[]) => boolean).apply(this, args);
      }),
      jest.spyOn(ServerResponse.prototype, 'end').mockImplementation(function (this: ServerResponse, ...args: Parameters<ServerResponse['end']>) {
        count(this);
        return (end as (...parameters: unknown[]) => ServerResponse).apply(this, args);
      }),
    ];
    try {
      const texts = await Promise.all(
        Array.from({ length: answers }, async () => {
          const { body } = await rawPost(server.server, [JSON.stringify({ model: 'm', messages: ask('Go'), stream: true })]);
          return framesOf(body)
            .filter((frame) => frame.startsWith('data: {'))
            .map((frame) => (JSON.parse(frame.slice(6)) as { choices: { delta?: { content?: string } }[] }).choices[0]?.delta?.content ?? '')
            .join('');
        }),
      );
      expect(texts).toEqual(Array.from({ length: answers }, () => tokens.join('')));
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      fetchSpy.mockRestore();
      for (const spy of spies) spy.mockRestore();
      await server.close();
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
    }
    expect(writes.size).toBe(answers);
    // The whole answer in its end when its burst fits in a turn; else the role frame with the first token or two as
    // the response comes, then a write per turn given, the last in the end.
    expect(Math.max(...writes.values())).toBeLessThanOrEqual(6);
  });

  it('should write each token of a paced answer as it comes, not wait for another', async () => {
    const { text, writes } = await writesOf('paced');
    expect(text).toBe('one two three four');
    // The role frame goes with the first token; the next two come 30 ms apart, each alone; the last goes with the
    // finish frame and [DONE], in the response's end.
    expect(writes).toBe(3);
  });
});
