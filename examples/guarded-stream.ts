// A guarded token stream, shown in both of NeMo's `stream_first` modes.
//
//   npm run demo        (or: npx tsx examples/guarded-stream.ts)
//
// A scripted "model" streams an answer token by token. A keyword rail watches windows of 6 tokens (2 of overlap).
// With streamFirst: true every token is printed the moment it arrives and the stream stops once a window holding
// a forbidden phrase is checked; with streamFirst: false a token is printed only after every window holding it
// passed, so no part of the phrase ever reaches the screen.
import { lastValueFrom, tap, catchError, EMPTY } from 'rxjs';
import { guard, keywordRail, RailViolationError } from 'rxguardrails';
import { tokenSource } from 'rxguardrails/testing';

const delayMs = Number(process.env.RXGUARDRAILS_DEMO_DELAY_MS ?? 60);
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);

// How an LLM streams: sub-word tokens, so "password" arrives as " pass" + "word".
const answers = {
  clean: ['Sure', '!', ' To', ' reset', ' it', ',', ' open', ' Settings', ' and', ' choose', ' Reset', '.'],
  leaky: ['Sure', '!', ' Happy', ' to', ' help', '.', ' The', ' admin', ' pass', 'word', ' is', ' hun', 'ter', '2', '.'],
};

const rail = keywordRail(['password', 'backup code']);

async function show(title: string, tokens: string[], streamFirst: boolean): Promise<void> {
  console.log(paint(1, `\n== ${title}, streamFirst: ${streamFirst} ==`));
  const guarded$ = tokenSource(tokens, { intervalMs: delayMs }).pipe(
    guard([rail], { chunkSize: 6, contextSize: 2, streamFirst }),
    tap((token) => process.stdout.write(paint(32, token))),
  );
  await lastValueFrom(
    guarded$.pipe(
      tap({ complete: () => console.log(paint(2, '\n   (completed: every window passed)')) }),
      catchError((error: unknown) => {
        if (!RailViolationError.isInstance(error)) throw error;
        const { batchIndex, verdict } = error.info;
        console.log(paint(31, `\n✖ ${error.message} (${verdict.reason}, window ${batchIndex}) The token stream was cancelled.`));
        return EMPTY;
      }),
    ),
    { defaultValue: undefined },
  );
}

await show('A clean answer', answers.clean, true);
await show('An answer that leaks a password', answers.leaky, true);
await show('The same answer', answers.leaky, false);
