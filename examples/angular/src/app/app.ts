import { ChangeDetectionStrategy, Component } from '@angular/core';
import { ChatPanel } from './chat-panel';
import { GuardedStreamPanel } from './guarded-stream-panel';

@Component({
  selector: 'app-root',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [GuardedStreamPanel, ChatPanel],
  template: `
    <h1>rxguardrails in Angular</h1>
    <main>
      <app-guarded-stream-panel />
      <app-chat-panel />
    </main>
  `,
})
export class App {}
