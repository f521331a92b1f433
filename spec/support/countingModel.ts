// A chat model that counts its live calls (subscriptions) and the tokens it produced: how a spec sees that the server
// stopped the model, and that it stopped it before the answer ran out.
import { defer, finalize, type Observable, tap } from 'rxjs';
import type { ChatModel } from 'rxguardrails';

export interface CountingModel extends ChatModel {
  /** Calls subscribed and not yet ended or unsubscribed. */
  readonly live: number;
  /** Calls made so far. */
  readonly started: number;
  /** Tokens the calls produced so far, all calls together. */
  readonly tokens: number;
  /** Resolves once no call is live (checked each time a call ends); at once when none is. */
  idle(): Promise<void>;
}

export function countingModel(inner: ChatModel): CountingModel {
  let live = 0;
  let started = 0;
  let tokens = 0;
  let waiting: (() => void)[] = [];
  const model: CountingModel = {
    provider: inner.provider,
    model: inner.model,
    get live() {
      return live;
    },
    get started() {
      return started;
    },
    get tokens() {
      return tokens;
    },
    idle: () => (live === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiting.push(resolve))),
    stream: (messages, options) =>
      defer(() => {
        live++;
        started++;
        return (inner.stream(messages, options) as Observable<string>).pipe(
          tap(() => tokens++),
          finalize(() => {
            live--;
            if (live === 0) {
              const resolved = waiting;
              waiting = [];
              for (const resolve of resolved) resolve();
            }
          }),
        );
      }),
  };
  return model;
}
