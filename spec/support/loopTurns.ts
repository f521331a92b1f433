// The event loop's turns, counted by a chain of setImmediate callbacks: what specs of bursts measure work against
// (items a consumer got in one turn, socket writes in one turn).

export interface LoopTurns {
  /** Turns started since counting began. */
  readonly turn: number;
  /** Stops the chain (it ends at its next callback). */
  stop(): void;
}

export function countTurns(): LoopTurns {
  let turn = 0;
  let counting = true;
  const tick = () => {
    turn++;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    get turn() {
      return turn;
    },
    stop: () => {
      counting = false;
    },
  };
}
