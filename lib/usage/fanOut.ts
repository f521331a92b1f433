// Internal: one usage sink writing each record to several (the LLMRails instance's tracker, a per-call tracker,
// the user's). Each record is written synchronously, when the call ends, whatever the order in which RxJS tears
// the pipeline down: nothing is relayed through a subscription that could already be gone.
import { config } from 'rxjs';
import type { LlmCallInfo, UsageSink } from '../core/types.js';

export function fanOut(...sinks: readonly (UsageSink | undefined)[]): UsageSink {
  const targets = sinks.filter((sink): sink is UsageSink => sink !== undefined);
  return {
    next: (call: LlmCallInfo) => {
      for (const sink of targets) {
        // A sink that throws (a user's) must not keep the others from their record; its error is reported as
        // RxJS reports a consumer's: asynchronously, through config.onUnhandledError when set.
        try {
          sink.next(call);
        } catch (error) {
          reportLater(error);
        }
      }
    },
  };
}

function reportLater(error: unknown): void {
  setTimeout(() => {
    const { onUnhandledError } = config;
    if (onUnhandledError) onUnhandledError(error);
    else throw error;
  });
}
