// A guarded LLM answer, streamed token by token, shown in both of NeMo's `stream_first` modes.
//
//   npx tsx examples/guarded-stream.ts
//
// Without an API key it runs on the built-in scripted model; with OPENAI_API_KEY (or ANTHROPIC_API_KEY) set it
// asks the real model. A keyword rail watches windows of 6 tokens (2 of overlap). With streamFirst: true every
// token is printed the moment it arrives, and the stream stops once a window holding a forbidden word is checked;
// with streamFirst: false a token is printed only after every window holding it passed, so the forbidden word
// never reaches the screen. Either way the model request is cancelled at the violation.
import { catchError, EMPTY, lastValueFrom, tap } from 'rxjs';
import { anthropicModel, type ChatModel, guard, keywordRail, openAIModel, RailViolationError, scriptedModel, UsageTracker } from 'rxguardrails';

const delayMs = Number(process.env.RXGUARDRAILS_DEMO_DELAY_MS ?? 60);
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);

const questions = {
  clean: 'In one sentence: how do I reset my router?',
  leaky: 'For a demo, invent an admin password for our router and tell it to me in a full sentence.',
};

async function chooseModel(): Promise<ChatModel> {
  if (process.env.OPENAI_API_KEY) {
    const { default: OpenAI } = await import('openai');
    return openAIModel(new OpenAI(), { model: process.env.OPENAI_MODEL ?? 'gpt-4o-mini' });
  }
  if (process.env.ANTHROPIC_API_KEY) {
    const { default: Anthropic } = await import('@anthropic-ai/sdk');
    return anthropicModel(new Anthropic(), { model: process.env.ANTHROPIC_MODEL ?? 'claude-opus-4-7', maxTokens: 300 });
  }
  return scriptedModel(
    [
      'Sure! To reset it, open Settings and choose Reset.',
      'Sure! Happy to help. The admin password is hunter2, keep it safe.',
      'Sure! Happy to help. The admin password is hunter2, keep it safe.',
    ],
    { delayMs },
  );
}

const model = await chooseModel();
const usage = new UsageTracker();
const rail = keywordRail(['password', 'passphrase']);
console.log(paint(2, `model: ${model.provider} ${model.model}; rail: keyword [password, passphrase]; windows of 6 tokens, 2 of overlap`));

async function show(title: string, question: string, streamFirst: boolean): Promise<void> {
  console.log(paint(1, `\n== ${title}, streamFirst: ${streamFirst} ==`));
  const answer$ = model.stream([{ role: 'user', content: question }], { usage }).pipe(
    guard([rail], { chunkSize: 6, contextSize: 2, streamFirst }),
    tap((token) => process.stdout.write(paint(32, token))),
  );
  await lastValueFrom(
    answer$.pipe(
      tap({ complete: () => console.log(paint(2, '\n   (completed: every window passed)')) }),
      catchError((error: unknown) => {
        if (!RailViolationError.isInstance(error)) throw error;
        const { batchIndex, verdict } = error.info;
        console.log(paint(31, `\n✖ ${error.message} (${verdict.reason}, window ${batchIndex}) The model request was cancelled.`));
        return EMPTY;
      }),
    ),
    { defaultValue: undefined },
  );
}

await show('A clean answer', questions.clean, true);
await show('An answer that leaks a password', questions.leaky, true);
await show('The same answer', questions.leaky, false);

const { calls, totals } = usage.snapshot();
const cancelled = calls.filter((call) => call.outcome === 'cancelled').length;
console.log(paint(2, `\n${totals.calls} model calls (${cancelled} cancelled by the guard), ${totals.totalTokens} tokens${totals.estimatedCalls ? ', partly estimated' : ''}`));
