// Internal: a Telemetry whose hooks never throw. Instrumentation is the user's code running inside the answer's
// stream: a hook that throws (an exporter misconfigured, a bug) must cost the request its spans, never its answer.
import type { Telemetry, TelemetryRequest } from '../core/types.js';

/**
 * `telemetry` with every hook caught and each failure given to `failed` (see {@link reportOnce}). A `request()` that
 * throws or answers something without the hooks leaves its request's hooks failing, caught the same way.
 */
export function guardedTelemetry(telemetry: Telemetry, failed: (error: unknown) => void): Telemetry {
  const guarded =
    <Args extends unknown[]>(hook: (...args: Args) => void) =>
    (...args: Args): void => {
      try {
        hook(...args);
      } catch (error) {
        failed(error);
      }
    };
  return {
    request: (start) => {
      let hooks: TelemetryRequest | undefined;
      guarded(() => (hooks = telemetry.request(start)))();
      // Kept lazily, so that hooks missing from what request() answered fail (and are caught) when called.
      return {
        llmCall: guarded((call) => hooks!.llmCall(call)),
        railCheck: guarded((check) => hooks!.railCheck(check)),
        end: guarded((end) => hooks!.end(end)),
      };
    },
  };
}

/** `report`, for the first failure only (a hook that throws on every window would flood the log); what it throws is dropped. */
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

/** Where a failed hook is reported when the owner was given nowhere else (onError, onTelemetryError): one console line. */
export function reportTelemetryFailure(error: unknown): void {
  console.error('rxguardrails: a telemetry hook threw (answers are unaffected):', error);
}
