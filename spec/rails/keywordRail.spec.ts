import { InvalidOptionError, keywordRail, type RailContext, type RailResult } from 'rxguardrails';

const context = {} as RailContext;
const check = (rail: ReturnType<typeof keywordRail>, text: string) => rail.check(text, context) as RailResult;

describe('keywordRail', () => {
  it('should allow text without any keyword, synchronously', () => {
    expect(check(keywordRail(['secret', 'password']), 'An ordinary answer.')).toBe(true);
  });

  it('should block text containing a keyword, saying which one and where', () => {
    expect(check(keywordRail(['secret', 'password']), 'Your Password is 1234')).toEqual({
      allowed: false,
      reason: 'matched keyword "password"',
      match: { text: 'Password', index: 5 },
    });
  });

  it('should match letter case exactly when caseSensitive', () => {
    const rail = keywordRail(['API'], { caseSensitive: true });
    expect(check(rail, 'the api')).toBe(true);
    expect(check(rail, 'the API')).toEqual(expect.objectContaining({ allowed: false }));
  });

  it('should match inside words by default', () => {
    expect(check(keywordRail(['ass']), 'assisting you')).toEqual(expect.objectContaining({ allowed: false, match: { text: 'ass', index: 0 } }));
  });

  it('should match only whole words with wordBoundary', () => {
    const whole = keywordRail(['ass'], { wordBoundary: true });
    expect(check(whole, 'assisting you')).toBe(true);
    expect(check(whole, 'a bad ass joke')).toEqual(expect.objectContaining({ allowed: false, match: { text: 'ass', index: 6 } }));
    expect(check(whole, 'ass.')).toEqual(expect.objectContaining({ allowed: false }));
  });

  it('should treat letters of any script as word characters for wordBoundary', () => {
    const whole = keywordRail(['café'], { wordBoundary: true });
    expect(check(whole, 'cafés')).toBe(true);
    expect(check(whole, 'un café, merci')).toEqual(expect.objectContaining({ allowed: false }));
    expect(check(keywordRail(['straße'], { wordBoundary: true }), 'STRASSE')).toBe(true);
  });

  it('should ignore the letter case of any script by default', () => {
    expect(check(keywordRail(['ÉTÉ']), 'un été chaud')).toEqual(expect.objectContaining({ allowed: false, match: { text: 'été', index: 3 } }));
  });

  it('should match a phrase across any run of whitespace', () => {
    const rail = keywordRail(['launch code']);
    expect(check(rail, 'the launch\n   code is')).toEqual(expect.objectContaining({ allowed: false, reason: 'matched keyword "launch code"' }));
    expect(check(rail, 'the launchcode')).toBe(true);
  });

  it('should treat regular-expression characters in keywords literally', () => {
    const rail = keywordRail(['a.b', '(c+)', 'x/y', 'k-9']);
    expect(check(rail, 'aXb c x y k9')).toBe(true);
    expect(check(rail, 'see (c+) here')).toEqual(expect.objectContaining({ allowed: false, reason: 'matched keyword "(c+)"' }));
    expect(check(rail, 'k-9 unit')).toEqual(expect.objectContaining({ allowed: false }));
    expect(check(keywordRail(['a.b'], { wordBoundary: true }), 'x a.b y')).toEqual(expect.objectContaining({ allowed: false }));
  });

  it('should report the longer phrase when a shorter keyword is inside it', () => {
    expect(check(keywordRail(['card', 'credit card number']), 'my credit card number')).toEqual(
      expect.objectContaining({ reason: 'matched keyword "credit card number"' }),
    );
  });

  it('should fold case as RegExp does with the iu flags, with or without wordBoundary', () => {
    for (const wordBoundary of [false, true]) {
      const rail = keywordRail(['kelvin', 'mass'], { wordBoundary });
      expect(check(rail, '300 \u212aELVIN')).toEqual(expect.objectContaining({ reason: 'matched keyword "kelvin"', match: { text: '\u212aELVIN', index: 4 } }));
      expect(check(rail, 'MAſS')).toEqual(expect.objectContaining({ reason: 'matched keyword "mass"' }));
      expect(check(keywordRail(['in'], { wordBoundary }), 'ın')).toBe(true);
    }
  });

  it('should report UTF-16 indices, and never match half of a surrogate pair', () => {
    expect(check(keywordRail(['secret']), '😀🎉 SECRET')).toEqual(expect.objectContaining({ match: { text: 'SECRET', index: 5 } }));
    expect(check(keywordRail(['\ud83d']), 'a 😀')).toBe(true);
    expect(check(keywordRail(['😀']), 'a 😀')).toEqual(expect.objectContaining({ match: { text: '😀', index: 2 } }));
  });

  it('should report the keyword starting first, and of those starting there the longest, among overlapping ones', () => {
    const rail = keywordRail(['code', 'launch code', 'the launch']);
    expect(check(rail, 'the launch code')).toEqual(expect.objectContaining({ reason: 'matched keyword "the launch"', match: { text: 'the launch', index: 0 } }));
    expect(check(keywordRail(['bc', 'abcd', 'abc']), 'xabcd')).toEqual(expect.objectContaining({ reason: 'matched keyword "abcd"', match: { text: 'abcd', index: 1 } }));
    expect(check(keywordRail(['Secret', 'SECRET']), 'secret')).toEqual(expect.objectContaining({ reason: 'matched keyword "Secret"' }));
  });

  it('should build a rail of 200,000 keywords at once and check windows with it (a guard against quadratic building)', () => {
    const keywords = Array.from({ length: 200_000 }, (_, position) => `w${position.toString(36)}x${(position * 7919).toString(36)}`);
    const rail = keywordRail([...keywords, 'launch code']);
    expect(check(rail, 'an ordinary answer without any of them '.repeat(30))).toBe(true);
    expect(check(rail, `a window with ${keywords[123_456] ?? ''} in it`)).toEqual(expect.objectContaining({ reason: `matched keyword "${keywords[123_456] ?? ''}"`, match: expect.objectContaining({ index: 14 }) }));
    expect(check(rail, 'the LAUNCH  code')).toEqual(expect.objectContaining({ reason: 'matched keyword "launch code"' }));
  }, 60_000);

  it('should give the same answer for the same text however often it is asked', () => {
    const rail = keywordRail(['secret']);
    for (let round = 0; round < 3; round++) expect(check(rail, 'a secret')).toEqual(expect.objectContaining({ allowed: false }));
  });

  it("should be named 'keyword' unless named otherwise", () => {
    expect(keywordRail(['x']).name).toBe('keyword');
    expect(keywordRail(['x'], { name: 'profanity' }).name).toBe('profanity');
  });

  it.each([
    [[], {}, 'keywordRail: keywords must be a non-empty array of strings, got an array'],
    ['secret', {}, 'keywordRail: keywords must be a non-empty array of strings, got "secret"'],
    [['ok', ''], {}, 'keywordRail: keywords[1] must be a non-empty string, got ""'],
    [['ok', '  '], {}, 'keywordRail: keywords[1] must be a non-empty string, got "  "'],
    [['ok', 3], {}, 'keywordRail: keywords[1] must be a non-empty string, got 3'],
    [['ok'], { name: '' }, 'keywordRail: name must be a non-empty string, got ""'],
    [['ok'], { caseSensitive: 'yes' }, 'keywordRail: caseSensitive must be true or false, got "yes"'],
    [['ok'], { wordBoundary: 1 }, 'keywordRail: wordBoundary must be true or false, got 1'],
    [['ok'], { ignoreCase: true }, "keywordRail: unknown option 'ignoreCase'; known options: name, caseSensitive, wordBoundary"],
  ])('should throw InvalidOptionError for keywords %j with options %j', (keywords, options, message) => {
    const create = () => keywordRail(keywords as never, options as never);
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow(message);
  });
});

describe("keywordRail's normalize: 'NFKC'", () => {
  const check = (rail: ReturnType<typeof keywordRail>, text: string) => rail.check(text, {} as never);
  it.each([
    ['fullwidth letters', 'my ｐａｓｓｗｏｒｄ is', 'password'],
    ['a ligature', 'the ﬁle', 'file'],
    ['circled letters', 'ⓟⓐⓢⓢⓦⓞⓡⓓ', 'password'],
    ['superscripts and fullwidth digits', 'code １２３４', 'code 1234'],
  ])('should match look-alikes (%s) that plain matching lets through', (_what, text, keyword) => {
    expect(check(keywordRail([keyword]), text)).toBe(true);
    expect(check(keywordRail([keyword], { normalize: 'NFKC' }), text)).toEqual(expect.objectContaining({ allowed: false, reason: `matched keyword ${JSON.stringify(keyword)}` }));
  });

  it('should normalize the keywords too, and refuse any other form', () => {
    expect(check(keywordRail(['ｓｅｃｒｅｔ'], { normalize: 'NFKC' }), 'a secret')).toEqual(expect.objectContaining({ allowed: false }));
    expect(() => keywordRail(['x'], { normalize: 'NFC' as never })).toThrow("keywordRail: normalize must be 'NFKC' (or left out), got \"NFC\"");
  });
});
