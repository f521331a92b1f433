// The README's opening example must make its point: with the windows it shows, no part of a blocked phrase reaches
// the screen. Its guard options are read from the README itself, so the example and this check cannot drift apart.
// (The example used guard's defaults before: a short answer was checked only when it ended, after it was shown.)
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { from } from 'rxjs';
import { guard, type GuardOptions, keywordRail } from 'rxguardrails';
import { regexRail } from 'rxguardrails/regex';
import { collect } from '../support/collect.js';

const readme = readFileSync(resolve(__dirname, '../../README.md'), 'utf8');
const firstBlock = /^```ts\n([\s\S]*?)^```/m.exec(readme)![1]!;
const optionsText = /guard\(rails, (\{[^}]*\})\)/.exec(firstBlock)![1]!;
const options = JSON.parse(optionsText.replace(/(\w+):/g, '"$1":')) as GuardOptions;
const rails = [keywordRail(['password', 'launch code']), regexRail(/sk-[A-Za-z0-9]{20,}/, { name: 'api keys' })];
const words = (text: string) => text.match(/\S+\s*/g)!;

describe("the README's opening example", () => {
  it('should show options that check as the answer streams', () => {
    expect(options).toEqual({ chunkSize: 8, contextSize: 4, streamFirst: false });
  });

  it.each([
    ['The launch code is 0000, do not share it with anyone please.', 'launch'],
    ['Sure, here is the key you asked for: sk-abcdefghijklmnopqrstuvwx and that is all.', 'sk-'],
    ['My password is hunter2.', 'password'],
  ])('should stop %j without showing any of it', async (answer, secret) => {
    const outcome = await collect(from(words(answer)).pipe(guard(rails, options)));
    expect(outcome.error).toEqual(expect.objectContaining({ name: 'RailViolationError' }));
    expect(outcome.items.join('')).not.toContain(secret);
  });

  it("should stop them with guard's defaults too, but only after showing them (what the README's line says)", async () => {
    const outcome = await collect(from(words('The launch code is 0000.')).pipe(guard(rails)));
    expect(outcome.error).toEqual(expect.objectContaining({ name: 'RailViolationError' }));
    expect(outcome.items.join('')).toContain('launch code');
  });
});
