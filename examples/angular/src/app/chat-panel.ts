import { ChangeDetectionStrategy, Component, DestroyRef, DOCUMENT, InjectionToken, inject, signal } from '@angular/core';
import { type ChatMessage, fromGuardrailsServer } from 'rxguardrails';
import { Subject, switchMap, takeUntil } from 'rxjs';
import { answerState, type AnswerState } from './answer-state';

/** Where the guardrails server is: `?server=http://127.0.0.1:8000/v1&config=demo` on the page's URL, else these. */
export interface ServerSettings {
  /** The server's API address, as the `openai` client's `baseURL` (with `/v1`). */
  readonly baseURL: string;
  readonly configId?: string;
}

export const SERVER_SETTINGS = new InjectionToken<ServerSettings>('SERVER_SETTINGS', {
  factory: () => {
    const query = new URLSearchParams(inject(DOCUMENT).location?.search ?? '');
    const configId = query.get('config');
    return { baseURL: query.get('server') ?? 'http://127.0.0.1:8000/v1', ...(configId ? { configId } : {}) };
  },
});

/** One question and its answer as far as it got. */
interface Turn {
  readonly question: string;
  readonly answer: AnswerState;
  /** Stop was clicked while it streamed. */
  readonly stopped?: boolean;
}

/**
 * Panel 2: a chat against the guardrails server (`rxguardrails server --cors-origin <this page's origin>`). The
 * server runs the config's rails; a block arrives as a RailViolationError naming the rail, after the text the server
 * had released, which stays shown. Stop (or a new question) unsubscribes, which aborts the request, and the server
 * then stops its model.
 */
@Component({
  selector: 'app-chat-panel',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section data-panel="chat">
      <h2>2. A chat against the guardrails server</h2>
      <p class="hint">
        <code>fromGuardrailsServer</code> at <span data-testid="server">{{ settings.baseURL }}</span>{{ settings.configId ? ', config ' + settings.configId : '' }}
      </p>
      <form (submit)="$event.preventDefault(); send(question.value); question.value = ''">
        <input #question name="question" placeholder="Ask something" autocomplete="off" size="32" />
        <button type="submit" data-action="send">Send</button>
        <button type="button" data-action="stop" (click)="stop()" [disabled]="!streaming()">Stop</button>
      </form>
      @for (turn of turns(); track $index) {
        <div class="turn" data-testid="turn">
          <p class="question">&gt; {{ turn.question }}</p>
          <p class="released" data-testid="answer">{{ turn.answer.text }}</p>
          @switch (turn.answer.status) {
            @case ('blocked') {
              <p class="block" data-testid="block">✖ {{ turn.answer.message }} (rail: {{ turn.answer.rail }})</p>
            }
            @case ('failed') {
              <p class="failure" data-testid="failure">✖ {{ turn.answer.message }}</p>
            }
            @case ('done') {
              <p class="done" data-testid="done">✔</p>
            }
            @case ('streaming') {
              @if (turn.stopped) {
                <p class="hint" data-testid="stopped">■ stopped</p>
              }
            }
          }
        </div>
      }
    </section>
  `,
})
export class ChatPanel {
  protected readonly settings = inject(SERVER_SETTINGS);
  readonly turns = signal<readonly Turn[]>([]);
  readonly streaming = signal(false);
  private readonly questions = new Subject<readonly ChatMessage[]>();
  private readonly stops = new Subject<void>();

  constructor() {
    // switchMap: a new question unsubscribes the answer still streaming (aborting its request), as Stop does.
    const subscription = this.questions
      .pipe(switchMap((messages) => answerState(fromGuardrailsServer({ ...this.settings, messages })).pipe(takeUntil(this.stops))))
      .subscribe((answer) => {
        this.streaming.set(answer.status === 'streaming');
        this.turns.update((turns) => [...turns.slice(0, -1), { ...turns.at(-1)!, answer }]);
      });
    inject(DestroyRef).onDestroy(() => subscription.unsubscribe());
  }

  send(question: string): void {
    const content = question.trim();
    if (content === '') return;
    // The conversation so far: answers that were blocked, failed or stopped are not sent back as the assistant's.
    this.stop();
    const history = this.turns().flatMap(({ question, answer }): ChatMessage[] =>
      answer.status === 'done' ? [{ role: 'user', content: question }, { role: 'assistant', content: answer.text }] : [{ role: 'user', content: question }],
    );
    this.turns.update((turns) => [...turns, { question: content, answer: { status: 'streaming', text: '' } }]);
    this.questions.next([...history, { role: 'user', content }]);
  }

  stop(): void {
    if (!this.streaming()) return;
    this.stops.next();
    this.streaming.set(false);
    this.turns.update((turns) => [...turns.slice(0, -1), { ...turns.at(-1)!, stopped: true }]);
  }
}
