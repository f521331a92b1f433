// main(argv, io) in-process, with streams of its own: what the bin does, without a process.
import { PassThrough } from 'node:stream';
import { main } from '../../lib/cli/main.js';

function io(input = '') {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (piece: string) => (out += piece));
  stderr.setEncoding('utf8').on('data', (piece: string) => (err += piece));
  stdin.end(input);
  return { streams: { stdin, stdout, stderr, env: { NO_COLOR: '1' } }, output: () => ({ out, err }) };
}

describe('main(argv, io)', () => {
  it('should print the usage with --help (exit 0) and without a command (exit 2)', async () => {
    const help = io();
    expect(await main(['--help'], help.streams)).toBe(0);
    expect(help.output().out).toContain('rxguardrails chat --config <dir> [--streaming] [--verbose]');
    expect(await main([], io().streams)).toBe(2);
  });

  it('should chat on a config, one answer per line, and end with the input', async () => {
    const session = io('Hi\n\nHi again\n');
    const config = 'spec/fixtures/server-configs/support';
    expect(await main(['chat', '--config', config, '--streaming'], session.streams)).toBe(0);
    expect(session.output()).toEqual({ out: 'Hello there! How can I help you today?\nHello there! How can I help you today?\n', err: '' });
  });

  it('should report a bad option in one line on stderr', async () => {
    const session = io();
    expect(await main(['server', '--config', 'x', '--port', 'eighty'], session.streams)).toBe(2);
    expect(session.output().err).toBe("rxguardrails: server: --port must be a port number, got 'eighty'\n");
  });
});
