// The README's first command runs this program; it must keep working as documented.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(__dirname, '../..');

describe('examples/guarded-stream.ts (guard on a model stream, without a config)', () => {
  it('should run on the scripted model without a key: a clean answer, a violation with streamFirst, no leak without it', () => {
    const output = execFileSync(resolve(root, 'node_modules/.bin/tsx'), ['examples/guarded-stream.ts'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, RXGUARDRAILS_DEMO_DELAY_MS: '1', NO_COLOR: '1', OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '' },
    });
    expect(output).toBe(
      [
        'model: scripted scripted; rail: keyword [password, passphrase]; windows of 6 tokens, 2 of overlap',
        '',
        '== A clean answer, streamFirst: true ==',
        'Sure! To reset it, open Settings and choose Reset.',
        '   (completed: every window passed)',
        '',
        '== An answer that leaks a password, streamFirst: true ==',
        'Sure! Happy to help. The admin password is hunter2, keep ',
        '✖ Blocked by keyword rails. (matched keyword "password", window 1) The model request was cancelled.',
        '',
        '== The same answer, streamFirst: false ==',
        'Sure! Happy to ',
        '✖ Blocked by keyword rails. (matched keyword "password", window 2) The model request was cancelled.',
        '',
        '3 model calls (2 cancelled by the guard), 75 tokens',
        '',
      ].join('\n'),
    );
  });
});

describe('examples/local-model-streamer.ts', () => {
  it('should stop the generation loop when the guard blocks', () => {
    const output = execFileSync(resolve(root, 'node_modules/.bin/tsx'), ['examples/local-model-streamer.ts'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, RXGUARDRAILS_DEMO_DELAY_MS: '1' },
    });
    expect(output).toBe('Our Wi-Fi is "Guest" and\n✖ Blocked by keyword rails. (matched keyword "passphrase")\ngeneration stopped after 10 of 14 steps\n');
  });
});
