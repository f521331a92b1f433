// Internal: times the checks of the rails of one generation and keeps their decisions, for GenerationResponse.log.
import { isObservable, type Observable, tap } from 'rxjs';
import { flowTask } from '../config/flows.js';
import type { LlmCallInfo, OutputRail, RailResult } from '../core/types.js';
import { now } from '../internal/clock.js';
import { errorDetail } from '../internal/errorDetail.js';
import { isPromiseLike } from '../internal/validateOptions.js';
import { defineRail } from '../rails/defineRail.js';
import type { ActivatedRail } from './GenerationResponse.js';

interface Entry {
  type: 'input' | 'output';
  name: string;
  decisions: string[];
  checks: number;
  stop: boolean;
  durationMs: number;
  startedAt: number;
  finishedAt: number;
}

export class RailRecorder {
  private readonly entries: Entry[] = [];

  /** The same rail, recording each check; synchronous rails stay synchronous. */
  wrap(rail: OutputRail, type: 'input' | 'output'): OutputRail {
    const entry = this.entry(rail.name, type);
    return defineRail(rail.name, (text, context) => {
      const started = now();
      const startedAt = Date.now();
      const settle = (decision: string, blocked: boolean) => {
        entry.checks++;
        entry.decisions.push(decision);
        entry.durationMs += now() - started;
        if (entry.checks === 1) entry.startedAt = startedAt;
        entry.finishedAt = Date.now();
        if (blocked) entry.stop = true;
      };
      const record = (result: RailResult) => {
        const allowed = typeof result === 'boolean' ? result : result?.allowed === true;
        const reason = typeof result === 'object' && result?.reason ? `: ${result.reason}` : '';
        settle(`${allowed ? 'allowed' : 'blocked'}${reason}`, !allowed);
        return result;
      };
      const fail = (error: unknown) => settle(`failed: ${errorDetail(error)}`, false);
      let answer: ReturnType<OutputRail['check']>;
      try {
        answer = rail.check(text, context);
      } catch (error) {
        fail(error);
        throw error;
      }
      if (isObservable(answer)) return (answer as Observable<RailResult>).pipe(tap({ next: record, error: fail }));
      if (isPromiseLike<RailResult>(answer)) {
        return Promise.resolve(answer as PromiseLike<RailResult>).then(record, (error: unknown) => {
          fail(error);
          throw error;
        });
      }
      return record(answer as RailResult);
    });
  }

  /** Durations of the rails of one side, added up. */
  durationMs(type: 'input' | 'output'): number {
    return this.entries.filter((entry) => entry.type === type).reduce((sum, entry) => sum + entry.durationMs, 0);
  }

  /** The rails that checked something, with the LLM calls of the judged ones. */
  activated(calls: readonly LlmCallInfo[]): ActivatedRail[] {
    return this.entries
      .filter((entry) => entry.checks > 0)
      // Within one millisecond, the input rails ran first: they run before the answer exists.
      .sort((a, b) => a.startedAt - b.startedAt || Number(a.type === 'output') - Number(b.type === 'output'))
      .map((entry) => ({
        ...entry,
        decisions: entry.stop ? [...entry.decisions, 'stop'] : [...entry.decisions],
        llmCalls: calls.filter((call) => call.task === flowTask(entry.name)),
      }));
  }

  private entry(name: string, type: 'input' | 'output'): Entry {
    const entry: Entry = { type, name, decisions: [], checks: 0, stop: false, durationMs: 0, startedAt: 0, finishedAt: 0 };
    this.entries.push(entry);
    return entry;
  }
}
