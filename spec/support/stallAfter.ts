// A replay plan that holds a stream open at a chosen point, so "the client cut the request" does not depend on
// how fast the machine is.
import { blocksOf, fixture, type ReplayPlan } from './replayServer.js';

/**
 * Sends the first `blocks` SSE blocks of the transcript at once, then waits `stallMs` before the rest. A client
 * that reacts to what it received within that wait is the one that ends the request; one that does not sees the
 * whole stream, so the test fails on an assertion (`request.ended`) rather than on a timeout.
 */
export function stallAfter(transcript: string | Buffer, blocks: number, stallMs = 5_000): ReplayPlan {
  const bytes = typeof transcript === 'string' ? fixture(transcript) : transcript;
  const all = blocksOf(bytes);
  if (blocks < 1 || blocks >= all.length) throw new Error(`stallAfter: the transcript has ${all.length} blocks, cannot stall after ${blocks}`);
  const offset = all.slice(0, blocks).reduce((sum, block) => sum + block.length, 0);
  return { transcript: bytes, splitAt: [offset], delayMs: stallMs };
}
