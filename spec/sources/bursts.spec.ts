// Bursts: a provider's response that arrives in large chunks (a fast provider, or one read on after its consumer
// was behind) is hundreds of events already in memory. The SDK clients rxguardrails makes get them an event at a
// time (eventWiseFetch: openai 6.x copies the rest of a chunk once per event), and the provider sources give the
// event loop back between bursts' items once a turn's budget is spent, so one fast stream cannot hold every other
// request. Driven with the real openai client against a local server.
import fc from 'fast-check';
import OpenAI from 'openai';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { fromOpenAI } from 'rxguardrails';
import { eventWise, eventWiseFetch } from '../../lib/sources/eventWiseFetch.js';
import { fetchOpenAIChat } from '../../lib/sources/fetchOpenAIChat.js';
import { useReplayServer, user } from '../support/clients.js';
import { countTurns, type LoopTurns } from '../support/loopTurns.js';
import { chatChunk, numberedWords, sse } from '../support/replayServer.js';


/** A consumer's item that costs it 100 µs (a rail, a write), counted in the turn it came in. */
function slowItem(loop: LoopTurns, perTurn: Map<number, number>): void {
  perTurn.set(loop.turn, (perTurn.get(loop.turn) ?? 0) + 1);
  const until = performance.now() + 0.1;
  while (performance.now() < until);
}

async function piecesOf(chunks: readonly Uint8Array[]): Promise<Uint8Array[]> {
  const pieces: Uint8Array[] = [];
  const reader = eventWise(
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const one of chunks) controller.enqueue(one);
        controller.close();
      },
    }),
  ).getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) pieces.push(read.value);
  return pieces;
}

describe('bursts', () => {
  const replay = useReplayServer();

  describe('eventWise', () => {
    it('should cut chunks after each blank line, and only there, losing and copying nothing (property)', async () => {
      const encoder = new TextEncoder();
      const decoder = new TextDecoder();
      await fc.assert(
        fc.asyncProperty(fc.array(fc.stringMatching(/^[a-z:{} \n\r]{0,30}$/), { maxLength: 8 }), async (texts) => {
          const pieces = await piecesOf(texts.map((text) => encoder.encode(text)));
          // The same bytes, in order.
          expect(decoder.decode(Buffer.concat(pieces))).toBe(texts.join(''));
          // Each piece holds at most one blank line, at its end.
          for (const piece of pieces) {
            const text = decoder.decode(piece);
            const blank = text.indexOf('\n\n');
            expect(blank === -1 || blank === text.length - 2).toBe(true);
          }
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('eventWiseFetch with the real openai client', () => {
    it('should give the SDK the same events from a stream of 5,000 events sent in one write', async () => {
      const answer = numberedWords(5_000);
      replay.server.plan({ transcript: sse(answer.map(chatChunk), { done: true }) });
      const client = new OpenAI({ apiKey: 'sk-test', baseURL: `${replay.server.url}/v1`, maxRetries: 0, fetch: eventWiseFetch() });
      const tokens = await lastValueFrom(fromOpenAI(client, { model: 'm', messages: user('Hi') }).pipe(toArray()));
      expect(tokens).toEqual(answer);
    });

    it('should pass on a failure of the body, and a cancellation to it', async () => {
      const failing = eventWise(
        new ReadableStream<Uint8Array>({
          pull: (controller) => controller.error(new Error('connection reset')),
        }),
      );
      await expect(failing.getReader().read()).rejects.toThrow('connection reset');
      let cancelled: unknown;
      const source = new ReadableStream<Uint8Array>({ cancel: (reason) => void (cancelled = reason) });
      await eventWise(source).cancel('client gone');
      expect(cancelled).toBe('client gone');
    });

    it('should leave a response that is not an event stream as it is (an error body reaches the SDK whole)', async () => {
      const response = await eventWiseFetch(async () => new Response('{"error":{"message":"bad key"}}', { status: 401, headers: { 'content-type': 'application/json' } }))('http://127.0.0.1/');
      expect({ status: response.status, body: await response.text() }).toEqual({ status: 401, body: '{"error":{"message":"bad key"}}' });
    });
  });

  describe('the event loop during a burst', () => {
    it('should give the loop back within a burst: at most a few dozen slow items per turn, not a whole chunk', async () => {
      // 3,000 events in one write: the SDK gets them in 64 KB chunks of hundreds of events. Each item costs the
      // consumer 100 µs (a rail, a write): a turn's budget (2 ms) is spent after about 20 items. Without the budget,
      // a chunk's every event went by in one turn.
      const answer = numberedWords(3_000);
      replay.server.plan({ transcript: sse(answer.map(chatChunk), { done: true }) });
      const client = new OpenAI({ apiKey: 'sk-test', baseURL: `${replay.server.url}/v1`, maxRetries: 0 });
      const loop = countTurns();
      const perTurn = new Map<number, number>();
      const tokens = await lastValueFrom(
        fromOpenAI(client, { model: 'm', messages: user('Hi') }).pipe(
          tap(() => slowItem(loop, perTurn)),
          toArray(),
        ),
      );
      loop.stop();
      expect(tokens).toEqual(answer);
      expect(Math.max(...perTurn.values())).toBeLessThan(60);
    });

    it('should take concurrent bursts in turns, a slice of the budget each, not an item per turn each', async () => {
      // Ten streams of 60 events, each sent in one write, read by the engines' direct path: their bursts are in
      // memory together, and each item costs the consumer 100 µs (6 ms a stream). Sources that gave the loop back
      // are resumed one per turn with the turn's whole budget (about 20 items). When they were all resumed at every
      // turn, the first spent the budget and each of the others went on by one item per turn: a server wrote every
      // token of every stream on its own.
      const streams = 10;
      const answer = numberedWords(60);
      const transcript = sse(answer.map(chatChunk), { done: true });
      replay.server.plan(...Array.from({ length: streams }, () => ({ transcript, splitAt: [transcript.length] })));
      const loop = countTurns();
      const perTurn = new Map<number, number>();
      // Which stream each item came from, in the order the consumers got them.
      const order: number[] = [];
      const endpoint = { baseURL: replay.server.openAIBaseURL, apiKey: 'sk-test' };
      const answers = await Promise.all(
        Array.from({ length: streams }, (_, stream) =>
          lastValueFrom(
            fetchOpenAIChat(endpoint, { model: 'm', messages: user('Hi') }).pipe(
              tap(() => {
                order.push(stream);
                slowItem(loop, perTurn);
              }),
              toArray(),
            ),
          ),
        ),
      );
      loop.stop();
      expect(answers).toEqual(Array.from({ length: streams }, () => answer));
      // A slice: a stream's items with no other stream's between. The first item or two as the response arrives,
      // then a slice per turn given: 4 or 5 slices each; an item per turn made 20 to 40.
      const slices = new Map<number, number>();
      order.forEach((stream, index) => {
        if (order[index - 1] !== stream) slices.set(stream, (slices.get(stream) ?? 0) + 1);
      });
      expect(Math.max(...slices.values())).toBeLessThanOrEqual(10);
      // And the loop is still given back: one budget per turn, however many streams are in a burst.
      expect(Math.max(...perTurn.values())).toBeLessThan(60);
    });
  });
});
