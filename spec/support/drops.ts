// What a source makes of a connection the replay server drops mid-body: the specs of whole answers cut short.
import type { Observable } from 'rxjs';
import { collect, type Outcome } from './collect.js';
import type { ReplayPlan, ReplayServer } from './replayServer.js';

/**
 * Plans `transcript` cut after `blocksSent` blocks (the socket destroyed), streams `source$` (which calls `server`),
 * and returns what came once the request is closed, having checked that the body was cut, not ended: the case is
 * the drop.
 */
export async function streamDroppedAfter(server: ReplayServer, transcript: ReplayPlan['transcript'], blocksSent: number, source$: Observable<string>): Promise<Outcome> {
  server.plan({ transcript, dropAfterBlocks: blocksSent });
  const outcome = await collect(source$);
  const request = server.requests.at(-1)!;
  await request.closed;
  expect(request.ended).toBe(false);
  expect(request.blocksSent).toBe(blocksSent);
  return outcome;
}
