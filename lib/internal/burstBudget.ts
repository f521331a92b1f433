// Internal: how long sources may hold the event loop, all together, with items that were already there.
import { now } from './clock.js';

/** Work on bursts in one turn of the event loop, all sources together, before they yield it to everything else. */
const TURN_MS = 2;
/** Items of one source further apart than this were waited for (the loop turned between them): not a burst. */
const WAITED_MS = 1;

const setImmediateOf = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;

/** The next task of the event loop (setImmediate where there is one: no 1 ms clamp, and after pending I/O). */
function nextTask(callback: () => void): void {
  if (setImmediateOf) setImmediateOf(callback);
  else setTimeout(callback, 0);
}

/** When burst work began in this turn of the loop; reset at the next turn. */
let turnStarted: number | undefined;
/** Sources that gave the loop back, in the order they did: each next turn resumes the first. */
const waiting: (() => void)[] = [];
let turnQueued = false;

function queueTurn(): void {
  if (turnQueued) return;
  turnQueued = true;
  nextTask(nextTurn);
}

/**
 * A new turn: the budget is fresh, and the first source waiting gets it (it runs in the promise callbacks that follow
 * this task, so before the next task of the loop). One source per turn, not all of them: resumed together they
 * shared one budget, the first spent it and each of the others went on by one item per turn, each with its own
 * socket write, the slowest way through a burst for everyone.
 */
function nextTurn(): void {
  turnQueued = false;
  turnStarted = undefined;
  const next = waiting.shift();
  if (next === undefined) return;
  turnStarted = now();
  queueTurn();
  next();
}

/**
 * Whether this turn's budget for bursts is spent. The first call of a turn starts the budget; a task queued then
 * ends the turn.
 */
export function turnSpent(): boolean {
  const at = now();
  if (turnStarted === undefined) {
    turnStarted = at;
    queueTurn();
    return false;
  }
  return at - turnStarted >= TURN_MS;
}

/** Settles at the turn given to this caller: after the sources that were waiting before it had theirs. */
function waitTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    queueTurn();
  });
}

/**
 * A source's items come to it by the event loop, one task at a time, except in a burst: a provider's response read
 * on after its consumer was behind, or a fast provider's 64 KB chunk, is hundreds of events already in memory, and
 * reading them all (with every rail and write they cause) in one go holds the loop from every other request.
 * `spent()` after each item answers a promise to await when the item was part of a burst and this turn's budget
 * for bursts (shared by every source) is spent, else undefined.
 *
 * Sources that wait are resumed in turn, one per turn of the loop, each with the turn's whole budget: the loop is
 * held for about one budget per turn, however many sources are in a burst, and a burst goes on in slices of the
 * budget (a socket write each, in a server), not an item at a time.
 */
export class BurstBudget {
  private last = now();

  spent(): Promise<void> | undefined {
    const at = now();
    const waited = at - this.last > WAITED_MS;
    this.last = at;
    if (waited || !turnSpent()) return undefined;
    return waitTurn().then(() => {
      this.last = now();
    });
  }
}
