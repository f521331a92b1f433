// The README's first command runs this program; it must keep working as documented.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(__dirname, '../..');

describe('examples/guarded-stream.ts (npm run demo)', () => {
  it('should show a clean answer, a violation with streamFirst, and no leak without it', () => {
    const output = execFileSync(resolve(root, 'node_modules/.bin/tsx'), ['examples/guarded-stream.ts'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, RXGUARDRAILS_DEMO_DELAY_MS: '1', NO_COLOR: '1' },
    });
    expect(output).toBe(
      [
        '',
        '== A clean answer, streamFirst: true ==',
        'Sure! To reset it, open Settings and choose Reset.',
        '   (completed: every window passed)',
        '',
        '== An answer that leaks a password, streamFirst: true ==',
        'Sure! Happy to help. The admin password',
        '✖ Blocked by keyword rails. (matched keyword "password", window 1) The token stream was cancelled.',
        '',
        '== The same answer, streamFirst: false ==',
        'Sure! Happy to',
        '✖ Blocked by keyword rails. (matched keyword "password", window 1) The token stream was cancelled.',
        '',
      ].join('\n'),
    );
  });
});
