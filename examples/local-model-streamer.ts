// A local model's push-style token callback, bridged to a guarded Observable with AsyncTextIteratorStreamer.
//
//   npx tsx examples/local-model-streamer.ts
//
// transformers.js streams generated text through a `TextStreamer(tokenizer, { callback_function })`; the
// generation loop below has the same shape (a callback per decoded piece, a stopping check per step), with a
// scripted "model" in place of real weights so the example runs anywhere. Point `callback_function` at
// `streamer.put`, end the streamer when generation returns, and stop generating when `streamer.signal` aborts:
// a guard that blocks the answer unsubscribes, which aborts the signal.
import { lastValueFrom, tap, catchError, EMPTY } from 'rxjs';
import { AsyncTextIteratorStreamer, guard, keywordRail, RailViolationError } from 'rxguardrails';

/** The slice of transformers.js' TextStreamer this example relies on. */
class TextStreamer {
  constructor(private readonly options: { callback_function: (text: string) => void }) {}
  put(text: string): void {
    this.options.callback_function(text);
  }
  end(): void {}
}

/** A stand-in for `pipeline('text-generation', ...)`: decodes one piece per step, honours a stopping criterion. */
async function generate(pieces: string[], options: { streamer: TextStreamer; shouldStop: () => boolean }): Promise<number> {
  let steps = 0;
  for (const piece of pieces) {
    if (options.shouldStop()) break;
    await new Promise((resolve) => setTimeout(resolve, Number(process.env.RXGUARDRAILS_DEMO_DELAY_MS ?? 40)));
    options.streamer.put(piece);
    steps++;
  }
  options.streamer.end();
  return steps;
}

const answer = ['Our', ' Wi', '-Fi', ' is', ' "Guest"', ' and', ' the', ' pass', 'phrase', ' is', ' tiger', '-lily', '-42', '.'];
const streamer = new AsyncTextIteratorStreamer();
const textStreamer = new TextStreamer({ callback_function: streamer.put });

const generation = generate(answer, { streamer: textStreamer, shouldStop: () => streamer.signal.aborted }).then(
  (steps) => {
    streamer.end();
    return steps;
  },
  (error: unknown) => {
    streamer.error(error);
    return 0;
  },
);

await lastValueFrom(
  streamer.asObservable().pipe(
    guard([keywordRail(['passphrase', 'password'])], { chunkSize: 4, contextSize: 1, streamFirst: false }),
    tap((token) => process.stdout.write(token)),
    catchError((error: unknown) => {
      if (!RailViolationError.isInstance(error)) throw error;
      console.log(`\n✖ ${error.message} (${error.info.verdict.reason})`);
      return EMPTY;
    }),
  ),
  { defaultValue: undefined },
);
console.log(`generation stopped after ${await generation} of ${answer.length} steps`);
