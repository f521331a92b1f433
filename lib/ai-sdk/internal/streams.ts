// Internal: Web streams (what the AI SDK speaks) to and from Observables (what guard speaks), with cancellation
// threaded both ways: unsubscribing cancels the reader (so the provider's request is aborted), and cancelling the
// returned stream unsubscribes.
import { Observable } from 'rxjs';

/**
 * A cold Observable of a stream's chunks: subscribing takes the stream's reader; unsubscribing before the end cancels
 * it (the upstream request stops). One subscription per stream (a second would find the stream locked).
 */
export function fromReadableStream<T>(stream: ReadableStream<T>): Observable<T> {
  return new Observable<T>((subscriber) => {
    const reader = stream.getReader();
    let ended = false;
    const pump = async (): Promise<void> => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (subscriber.closed) return;
          if (done) break;
          subscriber.next(value);
        }
        ended = true;
        subscriber.complete();
      } catch (error) {
        ended = true;
        subscriber.error(error);
      }
    };
    void pump();
    return () => {
      if (!ended) {
        ended = true;
        // A cancel that fails (the stream already errored) has nothing left to stop.
        reader.cancel().catch(() => undefined);
      }
    };
  });
}

/**
 * A ReadableStream of an Observable's values, subscribed when the stream starts. Cancelling the stream (the consumer
 * left, an abort signal) unsubscribes, which is what stops the upstream. Values are pushed as they come: the bridge
 * holds no more than guard holds, and the upstream is read as fast as it sends.
 */
export function toReadableStream<T>(source$: Observable<T>): ReadableStream<T> {
  let unsubscribe = (): void => undefined;
  return new ReadableStream<T>({
    start(controller) {
      const subscription = source$.subscribe({
        next: (value) => controller.enqueue(value),
        error: (error: unknown) => controller.error(error),
        complete: () => controller.close(),
      });
      unsubscribe = () => subscription.unsubscribe();
    },
    cancel() {
      unsubscribe();
    },
  });
}
