// Internal: a Telemetry whose hooks never throw. Instrumentation is the user's code running inside the answer's
// stream: a hook that throws (an exporter misconfigured, a bug) must cost the request its spans, never its answer.
import type { Telemetry, TelemetryRequest, TelemetryRequestStart } from '../core/types.js';

/** Does nothing: the hooks of a request whose `request()` hook failed. */
const SILENT: TelemetryRequest = { llmCall: () => {}, railCheck: () => {}, end: () => {} };

/** Marks telemetry already guarded, so that createApp's guard (reporting to onError) is not wrapped again by LLMRails'. */
const GUARDED = Symbol('rxguardrails.guardedTelemetry');

/**
 * `telemetry` with every hook caught and each failure given to `failed` (see {@link reportOnce}); `fields` are added
 * to every request's start (the server's config id). Telemetry guarded already is returned as it is.
 */
export function guardedTelemetry(telemetry: Telemetry, failed: (error: unknown) => void, fields: Pick<TelemetryRequestStart, 'configId'> = {}): Telemetry {
  if ((telemetry as { [GUARDED]?: true })[GUARDED]) return telemetry;
  const guarded = <Args extends unknown[]>(hook: (...args: Args) => void) =>
    (...args: Args): void => {
      try {
        hook(...args);
      } catch (error) {
        failed(error);
      }
    };
  return {
    [GUARDED]: true,
    request: (start) => {
      let hooks: TelemetryRequest;
      try {
        hooks = telemetry.request(fields.configId === undefined ? start : { ...start, ...fields });
        if (hooks === null || typeof hooks !== 'object') throw new TypeError(`telemetry.request() returned ${String(hooks)}, not { llmCall, railCheck, end }`);
      } catch (error) {
        failed(error);
        return SILENT;
      }
      return {
        llmCall: guarded((call) => hooks.llmCall(call)),
        railCheck: guarded((check) => hooks.railCheck(check)),
        end: guarded((end) => hooks.end(end)),
      };
    },
  } as Telemetry;
}

/**
 * `report`, called for the first failure only: a hook that throws on every window would otherwise flood the log. What
 * `report` throws is swallowed (it has nowhere left to go).
 */
export function reportOnce(report: (error: unknown) => void): (error: unknown) => void {
  let reported = false;
  return (error) => {
    if (reported) return;
    reported = true;
    try {
      report(error);
    } catch {
      // Nowhere left to report to.
    }
  };
}

/** What a failed hook is reported as, when the owner has no onError: one console line. */
export function reportTelemetryFailure(error: unknown): void {
  console.error('rxguardrails: a telemetry hook threw; spans and metrics are incomplete from here on (answers are unaffected):', error);
}
