// Internal: how the hand-written operators subscribe to their source.
import { type Observable, type Observer, Subscription, type Subscriber } from 'rxjs';

/**
 * An observer that is also a Subscription. RxJS uses such an object as the subscriber itself instead of wrapping
 * it, so it can be chained to the downstream subscriber *before* the source starts: when the downstream
 * unsubscribes (a `take(n)`, a violation) while a synchronous source is still emitting inside its `subscribe`
 * call, the source sees `closed` and stops, as it would under a built-in operator. Were RxJS to wrap it after all,
 * only that synchronous case would be lost: the subscription returned by `subscribe` is chained as well.
 */
class UpstreamObserver<T> extends Subscription implements Observer<T> {
  constructor(private readonly handlers: Observer<T>) {
    super();
  }

  next(value: T): void {
    if (!this.closed) this.handlers.next(value);
  }

  error(error: unknown): void {
    if (this.closed) return;
    try {
      this.handlers.error(error);
    } finally {
      this.unsubscribe();
    }
  }

  complete(): void {
    if (this.closed) return;
    try {
      this.handlers.complete();
    } finally {
      this.unsubscribe();
    }
  }
}

/**
 * Subscribes `handlers` to `source`, tied to `destination`: unsubscribing the destination unsubscribes the source
 * at once, even during a synchronous emission. Handlers run only while the subscription is open.
 */
export function subscribeUpstream<T>(source: Observable<T>, destination: Subscriber<unknown>, handlers: Observer<T>): Subscription {
  const upstream = new UpstreamObserver(handlers);
  destination.add(upstream);
  upstream.add(source.subscribe(upstream));
  return upstream;
}
