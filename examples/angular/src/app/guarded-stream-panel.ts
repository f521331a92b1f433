import { ChangeDetectionStrategy, Component, InjectionToken, inject } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { guard, keywordRail, scriptedModel } from 'rxguardrails';
import { Subject, switchMap } from 'rxjs';
import { answerState, type AnswerState } from './answer-state';

/** Milliseconds between the scripted model's words: slow enough to watch, and 1 in the component spec. */
export const SCRIPTED_DELAY_MS = new InjectionToken<number>('SCRIPTED_DELAY_MS', { factory: () => 60 });

/** The scripted model's answers, by the question the panel's buttons ask. */
export const QUESTIONS = {
  clean: { question: 'How do I reset my password?', answer: 'Open Settings, choose Security, then Reset and follow the e-mail we send you.' },
  leak: { question: 'What is the launch code?', answer: 'Sure! Happy to help. The launch code is 0000, keep it safe.' },
} as const;

export type QuestionId = keyof typeof QUESTIONS;

/** The rails and windows of this panel: every 2 words a window of 4 is checked, and nothing unchecked is shown. */
const rails = [keywordRail(['launch code'])];
const windows = { chunkSize: 4, contextSize: 2, streamFirst: false } as const;

const IDLE: AnswerState = { status: 'done', text: '' };

/**
 * Panel 1: a scripted token stream through `guard`. With `streamFirst: false` a word is shown only once every
 * window holding it has passed, so no part of "launch code" ever reaches the page; the words released before the
 * block stay, and the block names its rail.
 */
@Component({
  selector: 'app-guarded-stream-panel',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section data-panel="guarded-stream">
      <h2>1. A scripted stream through <code>guard</code></h2>
      <p class="hint">keywordRail(['launch code']), windows of 4 words with 2 of context, streamFirst: false</p>
      <button type="button" data-action="ask-clean" (click)="ask('clean')">Ask: {{ questions.clean.question }}</button>
      <button type="button" data-action="ask-leak" (click)="ask('leak')">Ask: {{ questions.leak.question }}</button>
      @let answer = state();
      <p class="released" data-testid="released">{{ answer.text }}</p>
      @switch (answer.status) {
        @case ('streaming') {
          <p class="hint" data-testid="status">streaming…</p>
        }
        @case ('blocked') {
          <p class="block" data-testid="block">
            ✖ {{ answer.message }} (rail: {{ answer.rail }}{{ answer.reason ? '; ' + answer.reason : '' }})
          </p>
        }
        @case ('failed') {
          <p class="failure" data-testid="failure">{{ answer.message }}</p>
        }
        @case ('done') {
          @if (answer.text) {
            <p class="done" data-testid="status">✔ every window passed</p>
          }
        }
      }
    </section>
  `,
})
export class GuardedStreamPanel {
  protected readonly questions = QUESTIONS;
  private readonly model = scriptedModel((messages) => (messages.at(-1)?.content === QUESTIONS.leak.question ? QUESTIONS.leak.answer : QUESTIONS.clean.answer), {
    delayMs: inject(SCRIPTED_DELAY_MS),
  });
  private readonly asked = new Subject<QuestionId>();

  /** The answer to the last question asked; a new question unsubscribes the previous answer, which stops its model. */
  readonly state = toSignal(
    this.asked.pipe(
      switchMap((id) => answerState(this.model.stream([{ role: 'user', content: QUESTIONS[id].question }]).pipe(guard(rails, windows)))),
    ),
    { initialValue: IDLE },
  );

  ask(id: QuestionId): void {
    this.asked.next(id);
  }
}
