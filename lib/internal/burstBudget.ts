// Internal: how long sources may hold the event loop, all together, with items that were already there.
import { now } from './clock.js';

/** Work on bursts in one turn of the event loop, all sources together, before they yield it to everything else. */
const TURN_MS = 2;
/** Items of one source further apart than this were waited for (the loop turned between them): not a burst. */
const WAITED_MS = 1;

const setImmediateOf = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;

/** The next task of the event loop (setImmediate where there is one: no 1 ms clamp, and after pending I/O). */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => (setImmediateOf ? setImmediateOf(resolve) : setTimeout(resolve, 0)));
}

/** When burst work began in this turn of the loop; reset by a task queued then, so at the next turn. */
let turnStarted: number | undefined;

/**
 * Whether this turn's budget for bursts is spent. The first call of a turn starts the budget; a task queued then
 * ends the turn, so sources that yield (with {@link nextTask}, queued after it) find a fresh budget when they resume,
 * after the I/O (new requests, tokens that came) the loop had waiting.
 */
export function turnSpent(): boolean {
  const at = now();
  if (turnStarted === undefined) {
    turnStarted = at;
    void nextTask().then(() => (turnStarted = undefined));
    return false;
  }
  return at - turnStarted >= TURN_MS;
}

/**
 * A source's items come to it by the event loop, one task at a time, except in a burst: a provider's response read
 * on after its consumer was behind, or a fast provider's 64 KB chunk, is hundreds of events already in memory, and
 * reading them all (with every rail and write they cause) in one go holds the loop from every other request.
 * `spent()` after each item answers a promise to await when the item was part of a burst and this turn's budget
 * for bursts (shared by every source) is spent, else undefined.
 */
export class BurstBudget {
  private last = now();

  spent(): Promise<void> | undefined {
    const at = now();
    const waited = at - this.last > WAITED_MS;
    this.last = at;
    if (waited || !turnSpent()) return undefined;
    return nextTask().then(() => {
      this.last = now();
    });
  }
}
