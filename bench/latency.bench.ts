// Latency benchmark: when held-back text first goes out (guard with streamFirst: false), and whether an LLM judge
// slower than the stream keeps up when windows are checked concurrently.
//
//   npm run bench:latency      (part of npm run bench)
//
// Writes bench/results/latency.json. Method:
// - First release with a cheap rail: a keyword rail, NeMo's window defaults (200 / 50), items pushed one at a time;
//   the count of items pushed when the first item comes out, with growing windows (the default) and with NeMo's
//   schedule (firstChunkSize: chunkSize). Counts, so the machine's load does not matter; the time a reader waits is
//   that count times the model's pace (20 ms per delta in the measurement).
// - A judge: a rail answering after JUDGE_MS (a timer, as an LLM call's latency), over a model emitting RATE items per
//   second in real time. Time to first released item against (time the first window was complete + JUDGE_MS), and
//   time to completion against the model's own time, for concurrency 1 and 3; rounds interleaved, medians.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Observable, Subject, tap } from 'rxjs';
import { defineRail, guard, keywordRail } from 'rxguardrails';

const WINDOW = { chunkSize: 200, contextSize: 50 };
const JUDGE_MS = 400;
const RATE = 1000;
const ITEMS = 3000;
const ROUNDS = 3;

function itemsBeforeFirstRelease(firstChunkSize: number | undefined): number {
  const source = new Subject<string>();
  let released = false;
  const options = { ...WINDOW, streamFirst: false, ...(firstChunkSize === undefined ? {} : { firstChunkSize }) };
  source.pipe(guard([keywordRail(['forbidden'])], options)).subscribe(() => (released = true));
  for (let count = 1; count <= 1000; count++) {
    source.next(' word');
    if (released) return count;
  }
  return Number.NaN;
}

/** RATE items per second for ITEMS items, on the wall clock (emitted in 5 ms ticks, as many as are due). */
function pacedModel(times: { firstItemAt: number }): Observable<string> {
  return new Observable<string>((subscriber) => {
    const started = performance.now();
    times.firstItemAt = started;
    let sent = 0;
    const tick = setInterval(() => {
      const due = Math.min(ITEMS, Math.floor(((performance.now() - started) * RATE) / 1000));
      for (; sent < due && !subscriber.closed; sent++) subscriber.next(' word');
      if (sent >= ITEMS) {
        clearInterval(tick);
        subscriber.complete();
      }
    }, 5);
    return () => clearInterval(tick);
  });
}

const judge = defineRail('judge', (_text, { signal }) => new Promise<boolean>((resolve) => {
  const timer = setTimeout(() => resolve(true), JUDGE_MS);
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
}));

interface JudgedRun {
  firstReleaseMs: number;
  completionMs: number;
  modelMs: number;
}

function judgedRun(concurrency: number): Promise<JudgedRun> {
  return new Promise((resolve, reject) => {
    const times = { firstItemAt: 0 };
    let firstRelease = Number.NaN;
    let modelDone = Number.NaN;
    const model$ = pacedModel(times).pipe(tap({ complete: () => (modelDone = performance.now()) }));
    model$.pipe(guard([judge], { ...WINDOW, streamFirst: false, concurrency })).subscribe({
      next: () => {
        if (Number.isNaN(firstRelease)) firstRelease = performance.now();
      },
      error: reject,
      complete: () => resolve({ firstReleaseMs: firstRelease - times.firstItemAt, completionMs: performance.now() - times.firstItemAt, modelMs: modelDone - times.firstItemAt }),
    });
  });
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number, digits = 0) => Number(value.toFixed(digits));

const growing = itemsBeforeFirstRelease(undefined);
const nemo = itemsBeforeFirstRelease(WINDOW.chunkSize);

const runs: Record<string, JudgedRun[]> = { 'concurrency 1': [], 'concurrency 3': [] };
for (let pass = 0; pass < ROUNDS; pass++) {
  for (const concurrency of [1, 3]) runs[`concurrency ${concurrency}`]!.push(await judgedRun(concurrency));
}
const summary = Object.fromEntries(
  Object.entries(runs).map(([name, list]) => [
    name,
    {
      firstReleaseMs: round(median(list.map((run) => run.firstReleaseMs))),
      completionMs: round(median(list.map((run) => run.completionMs))),
      modelMs: round(median(list.map((run) => run.modelMs))),
      completionRatio: round(median(list.map((run) => run.completionMs / run.modelMs)), 2),
    },
  ]),
);
// The first window (contextSize + 1 items) is complete after that many items at RATE per second.
const firstWindowMs = ((WINDOW.contextSize + 1) * 1000) / RATE;
const three = summary['concurrency 3']!;
const goals = [
  { target: `first release with a cheap rail <= contextSize + 1 = ${WINDOW.contextSize + 1} items`, value: growing, met: growing <= WINDOW.contextSize + 1 },
  { target: "first release with NeMo's schedule (firstChunkSize: chunkSize), for reference", value: nemo, met: true },
  {
    target: `with a ${JUDGE_MS} ms judge, first release <= first window (${firstWindowMs} ms) + one judge latency (+ 50 ms of timer slack)`,
    value: three.firstReleaseMs,
    met: three.firstReleaseMs <= firstWindowMs + JUDGE_MS + 50,
  },
  { target: `${JUDGE_MS} ms judge over ${RATE} items/s, concurrency 3: completion <= 1.25x the model's own time`, value: three.completionRatio, met: three.completionRatio <= 1.25 },
  { target: 'same, concurrency 1 (one window after the other), for reference', value: summary['concurrency 1']!.completionRatio, met: true },
];

const report = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, node: process.version },
  method: {
    cheapRail: 'keyword rail, chunkSize 200 / contextSize 50, items pushed one at a time: items pushed when the first item is released',
    judge: `a rail answering after ${JUDGE_MS} ms (timer) over a model emitting ${RATE} items/s for ${ITEMS} items (5 ms ticks), ${ROUNDS} interleaved rounds, medians`,
  },
  firstRelease: { growingWindowsItems: growing, nemoScheduleItems: nemo, waitAt20msPerDelta: { growingMs: growing * 20, nemoMs: nemo * 20 } },
  judge: summary,
  goals,
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/latency.json', import.meta.url), JSON.stringify(report, null, 2) + '\n');
console.log(JSON.stringify({ firstRelease: report.firstRelease, judge: summary }, null, 2));
for (const goal of goals) console.log(`${goal.met ? 'met    ' : 'NOT MET'}  ${goal.target}: ${goal.value}`);
