import { materialize, type Observable, scan, startWith } from 'rxjs';
import { ProviderError, RailViolationError } from 'rxguardrails';

/** What a panel shows of one guarded answer: the text released so far and how the answer ended, if it did. */
export type AnswerState =
  | { readonly status: 'streaming'; readonly text: string }
  | { readonly status: 'done'; readonly text: string }
  /** A rail stopped the answer: `text` is what was released before it, and stays shown. */
  | { readonly status: 'blocked'; readonly text: string; readonly rail: string; readonly message: string; readonly reason?: string }
  | { readonly status: 'failed'; readonly text: string; readonly message: string };

const STARTED: AnswerState = { status: 'streaming', text: '' };

/**
 * Turns a guarded token stream into the states a template renders, one per token and one at the end. A violation
 * is an ending like completion, not an error of the returned stream: the text released before it is kept, and
 * the block is described by the rail that stopped it. Brands (`isInstance`), not `instanceof`, recognise the
 * library's errors, so this works whichever copy of the package threw them.
 */
export function answerState(tokens$: Observable<string>): Observable<AnswerState> {
  return tokens$.pipe(
    materialize(),
    scan((state: AnswerState, notification): AnswerState => {
      switch (notification.kind) {
        case 'N':
          return { status: 'streaming', text: state.text + notification.value };
        case 'C':
          return { status: 'done', text: state.text };
        case 'E':
          return ended(state.text, notification.error);
      }
    }, STARTED),
    startWith(STARTED),
  );
}

function ended(text: string, error: unknown): AnswerState {
  if (RailViolationError.isInstance(error)) {
    const { rail, verdict } = error.info;
    return { status: 'blocked', text, rail, message: error.message, ...(verdict.reason === undefined ? {} : { reason: verdict.reason }) };
  }
  // ProviderError's message names the provider, the status and the provider's own words.
  if (ProviderError.isInstance(error)) return { status: 'failed', text, message: error.message };
  return { status: 'failed', text, message: error instanceof Error ? error.message : String(error) };
}
