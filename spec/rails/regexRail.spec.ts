import { InvalidOptionError, regexRail, type RailContext, type RailResult } from 'rxguardrails';

const context = {} as RailContext;
const check = (rail: ReturnType<typeof regexRail>, text: string) => rail.check(text, context) as RailResult;

describe('regexRail', () => {
  const secrets = () => regexRail([/\b\d{4}-\d{4}-\d{4}-\d{4}\b/, 'sk-[A-Za-z0-9]{8,}'], { name: 'secrets' });

  it('should allow text no pattern matches, synchronously', () => {
    expect(check(secrets(), 'nothing here')).toBe(true);
  });

  it('should block text a pattern matches, saying which pattern and where', () => {
    expect(check(secrets(), 'card 1234-5678-9012-3456 ok')).toEqual({
      allowed: false,
      reason: 'matched pattern /\\b\\d{4}-\\d{4}-\\d{4}-\\d{4}\\b/',
      match: { text: '1234-5678-9012-3456', index: 5 },
    });
  });

  it('should compile a pattern given as a string with the u flag', () => {
    expect(check(secrets(), 'key sk-abcdefgh1234')).toEqual({
      allowed: false,
      reason: 'matched pattern /sk-[A-Za-z0-9]{8,}/u',
      match: { text: 'sk-abcdefgh1234', index: 4 },
    });
  });

  it('should ignore the g and y flags, which would make answers depend on earlier windows', () => {
    const rail = regexRail(/secret/gi);
    for (let round = 0; round < 3; round++) expect(check(rail, 'a SECRET')).toEqual(expect.objectContaining({ allowed: false }));
    expect(check(regexRail(/^b/y), 'b')).toEqual(expect.objectContaining({ allowed: false }));
  });

  it("should be named 'regex' unless named otherwise", () => {
    expect(regexRail(/x/).name).toBe('regex');
    expect(secrets().name).toBe('secrets');
  });

  it.each([
    [[], 'regexRail: patterns must not be empty'],
    ['(unclosed', 'regexRail: patterns is not a valid regular expression'],
    [[/ok/, ''], 'regexRail: patterns[1] must be a RegExp or a non-empty pattern string, got ""'],
    [[/ok/, 7], 'regexRail: patterns[1] must be a RegExp or a non-empty pattern string, got 7'],
    [/a*/, 'regexRail: patterns (/a*/) matches the empty string, so it would block every window'],
  ])('should throw InvalidOptionError for %p', (patterns, message) => {
    const create = () => regexRail(patterns as never);
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow(message);
  });

  it('should reject unknown options', () => {
    const create = () => regexRail(/x/, { flags: 'i' } as never);
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow("regexRail: unknown option 'flags'; known options: name");
  });
});
