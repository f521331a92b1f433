// Internal: the checks of the rails of one generation, their decisions and durations, for GenerationResponse.log.
// It is told of each check as telemetry is (a RailCheckInfo, from the verdict checkRail decided), so the log and the
// spans tell one story: a rail that timed out is a failure in both.
import { flowTask } from '../config/flows.js';
import type { LlmCallInfo, RailCheckInfo } from '../core/types.js';
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
  private readonly entries = new Map<string, Entry>();

  /** One check decided: `allowed` / `blocked` (with the rail's reason), or `failed` with what went wrong. */
  readonly railCheck = (check: RailCheckInfo): void => {
    const { verdict } = check;
    const key = `${check.side} ${check.rail}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { type: check.side, name: check.rail, decisions: [], checks: 0, stop: false, durationMs: 0, startedAt: check.startedAt, finishedAt: 0 };
      this.entries.set(key, entry);
    }
    const reason = verdict.reason ? `: ${verdict.reason}` : '';
    entry.checks++;
    entry.decisions.push(`${verdict.kind === 'internal_error' ? 'failed' : verdict.allowed ? 'allowed' : 'blocked'}${reason}`);
    entry.durationMs += check.durationMs;
    entry.finishedAt = check.finishedAt;
    // A rail that failed is no decision to stop, whatever onError made of the window.
    if (verdict.kind === 'violation') entry.stop = true;
  };

  /** Durations of the rails of one side, added up. */
  durationMs(type: 'input' | 'output'): number {
    return [...this.entries.values()].filter((entry) => entry.type === type).reduce((sum, entry) => sum + entry.durationMs, 0);
  }

  /** The rails that checked something, with the LLM calls of the judged ones. */
  activated(calls: readonly LlmCallInfo[]): ActivatedRail[] {
    return [...this.entries.values()]
      // Within one millisecond, the input rails ran first: they run before the answer exists.
      .sort((a, b) => a.startedAt - b.startedAt || Number(a.type === 'output') - Number(b.type === 'output'))
      .map((entry) => ({
        ...entry,
        decisions: entry.stop ? [...entry.decisions, 'stop'] : [...entry.decisions],
        llmCalls: calls.filter((call) => call.task === flowTask(entry.name)),
      }));
  }
}
