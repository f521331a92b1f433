// The panel as a user sees it, on the real scripted model (1 ms between words) and the real guard.
import { TestBed } from '@angular/core/testing';
import { GuardedStreamPanel, QUESTIONS, SCRIPTED_DELAY_MS } from './guarded-stream-panel';

async function ask(action: 'ask-clean' | 'ask-leak') {
  TestBed.configureTestingModule({ providers: [{ provide: SCRIPTED_DELAY_MS, useValue: 1 }] });
  const fixture = TestBed.createComponent(GuardedStreamPanel);
  const element = fixture.nativeElement as HTMLElement;
  element.querySelector<HTMLButtonElement>(`[data-action="${action}"]`)!.click();
  await vi.waitFor(() => expect(fixture.componentInstance.state().status).not.toBe('streaming'), { timeout: 5_000 });
  await fixture.whenStable();
  // The answer's own text as rendered (the message lines' trimmed: the template indents them).
  const text = (testId: string) => {
    const content = element.querySelector(`[data-testid="${testId}"]`)?.textContent;
    return testId === 'released' ? content : content?.trim();
  };
  return { text };
}

describe('GuardedStreamPanel', () => {
  it('should show a clean answer whole', async () => {
    const { text } = await ask('ask-clean');
    expect(text('released')).toBe(QUESTIONS.clean.answer);
    expect(text('status')).toBe('✔ every window passed');
    expect(text('block')).toBeUndefined();
  });

  it('should show the words released before the block and a block message naming the rail, and never the phrase', async () => {
    const { text } = await ask('ask-leak');
    expect(text('released')).toBe('Sure! Happy to help. ');
    expect(text('block')).toBe('✖ Blocked by keyword rails. (rail: keyword; matched keyword "launch code")');
    expect(text('released')).not.toContain('launch');
  });
});
