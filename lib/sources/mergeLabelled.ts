import { isObservable, map, merge, type Observable } from 'rxjs';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { describeValue } from '../internal/validateOptions.js';

/** One token of one of several sources streaming side by side. */
export interface LabelledText {
  /** The label the source was given. */
  readonly source: string;
  readonly text: string;
}

/**
 * Streams several providers side by side, each token labelled with its source, in arrival order.
 *
 * ```
 * openai:    -a---b-|
 * claude:    --x-y---|
 * result:    -A-XYB--|         A = { source: 'openai', text: a }, X = { source: 'claude', text: x }, ...
 * ```
 *
 * - Completes when every source has completed. As with `merge`, the first failure fails the result and
 *   unsubscribes the others; to let the others go on, catch per source (`a$.pipe(catchError(() => EMPTY))`).
 * - Guard each source on its own (`a$.pipe(guard(rails))`): windows never mix two providers' text.
 *
 * ## Example
 * ```ts
 * import { fromAnthropic, fromOpenAI, guard, mergeLabelled } from 'rxguardrails';
 *
 * mergeLabelled({ openai: fromOpenAI(openai, params).pipe(guard(rails)), claude: fromAnthropic(anthropic, anthropicParams).pipe(guard(rails)) })
 *   .subscribe(({ source, text }) => columns[source].append(text));
 * ```
 *
 * @param sources Token sources by label.
 */
export function mergeLabelled(sources: Readonly<Record<string, Observable<string>>>): Observable<LabelledText> {
  if (sources === null || typeof sources !== 'object' || Array.isArray(sources)) {
    throw new InvalidOptionError('sources', sources, `mergeLabelled: sources must be an object of Observables by label, got ${describeValue(sources)}`);
  }
  const entries = Object.entries(sources);
  for (const [label, source] of entries) {
    if (!isObservable(source)) {
      throw new InvalidOptionError(`sources.${label}`, source, `mergeLabelled: sources.${label} must be an Observable, got ${describeValue(source)}`);
    }
  }
  return merge(...entries.map(([label, source]) => source.pipe(map((text): LabelledText => ({ source: label, text })))));
}
