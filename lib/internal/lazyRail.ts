// Internal: rails whose module is imported when first needed. The linear-time regex engine (re2js, 150 kB minified)
// and the Jinja engine (@huggingface/jinja, 53 kB) were half of a browser bundle of LLMRails and RailsConfig; a
// config names its flows, so the registry imports their rails' modules with import(), which bundlers put in chunks
// of their own that only apps whose configs use those flows load. Node's config loader and LLMRails.warmUp() load
// them first, so there nothing changes: the rails are made, and their options checked, at once.
import { concatMap, defer, from, isObservable, type Observable, of } from 'rxjs';
import type { OutputRail, RailContext, RailResult } from '../core/types.js';
import { isPromiseLike } from './validateOptions.js';

/** A module imported on first need, then at hand synchronously. */
export class LazyModule<T> {
  private loaded: T | undefined;
  private loading: Promise<T> | undefined;

  constructor(private readonly importer: () => Promise<T>) {}

  /** The module, once loaded. */
  get value(): T | undefined {
    return this.loaded;
  }

  /** Loads the module (once); a failed import (a chunk the network lost) is tried again on the next call. */
  load(): Promise<T> {
    this.loading ??= this.importer().then(
      (module) => (this.loaded = module),
      (error: unknown) => {
        this.loading = undefined;
        throw error;
      },
    );
    return this.loading;
  }
}

/** A rail made from a lazily loaded module. */
export interface LazyRail extends OutputRail {
  /** Loads the module and makes the rail; rejects with what making it threw (an InvalidOptionError). */
  ready(): Promise<void>;
  /** Whether the rail is made: its checks go straight to it. */
  isMade(): boolean;
}

/**
 * A rail `make` makes from `module`: at once when the module is loaded (so what `make` throws is thrown now, as by
 * the rail's own factory), else when first checked or readied. Until then a check waits for the module; a rail that
 * could not be made fails every check (an internal_error verdict: the window counts as blocked unless
 * `onError: 'allow'`). Once made, checks go straight to the rail, synchronous ones staying synchronous.
 */
export function lazyRail<T>(name: string, module: LazyModule<T>, make: (loaded: T) => OutputRail): LazyRail {
  let made: OutputRail | undefined;
  let making: Promise<OutputRail> | undefined;
  const makeWith = (loaded: T): OutputRail => (made ??= make(loaded));
  if (module.value !== undefined) makeWith(module.value);
  const whenMade = (): Promise<OutputRail> => {
    if (made) return Promise.resolve(made);
    making ??= module.load().then(makeWith, (error: unknown) => {
      making = undefined;
      throw error;
    });
    return making;
  };
  return {
    name,
    check(text: string, context: RailContext) {
      if (made) return made.check(text, context);
      // An Observable, not a Promise: unsubscribing from it must reach the rail's own answer (a judge's call).
      return defer(() => whenMade()).pipe(
        concatMap((rail): Observable<RailResult> => {
          const answer = rail.check(text, context);
          return isObservable(answer) ? answer : isPromiseLike(answer) ? from(answer) : of(answer);
        }),
      );
    },
    ready: async () => {
      await whenMade();
    },
    isMade: () => made !== undefined,
  };
}

export function isLazyRail(rail: OutputRail): rail is LazyRail {
  return typeof (rail as Partial<LazyRail>).ready === 'function';
}
