// NeMo's sensitive data detection (tests/test_sensitive_data_detection.py): masking the user's message
// (`Hi! I am <TITLE> <PERSON>!`), a custom deny-list recognizer, detection refusals, score_threshold; the pattern
// recognizers (own patterns, Presidio's entity names and validations) with properties for their checksums; entities
// that need a named-entity model through a Presidio analyzer on 127.0.0.1, and that analyzer misbehaving.
import fc from 'fast-check';
import { of } from 'rxjs';
import { type ChatMessage, type ChatModel, guard, InvalidOptionError, LLMRails, RailsConfig, RailViolationError } from 'rxguardrails';
import { detectSensitiveData, maskSensitiveData } from 'rxguardrails/detectors';
import { collect } from '../support/collect.js';
import { jsonService, type JsonService, type ServiceAnswer } from '../support/jsonService.js';
import { loadFlowModules } from '../../lib/config/flows.js';
import { configErrorOf } from '../support/configErrors.js';
import { growthRatio, LINEAR_BOUND } from '../support/growthRatio.js';

const REFUSAL = "I'm sorry, I can't respond to that.";
const INTERNAL_ERROR = "I'm sorry, an internal error has occurred.";
const PATTERN_ENTITIES = ['EMAIL_ADDRESS', 'PHONE_NUMBER', 'CREDIT_CARD', 'IBAN_CODE', 'IP_ADDRESS', 'US_SSN', 'US_ITIN', 'UK_NHS', 'URL'];
const ask = (content: string): ChatMessage[] => [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content },
];
const contextOf = (text: string) => ({ messages: [], batch: { index: 0, text, chunks: [text], final: true, overlap: 0 }, signal: new AbortController().signal });

/** A main model that records the conversations it is given and answers `answer`. */
function recordingModel(answer = 'Noted.'): ChatModel & { readonly seen: (readonly ChatMessage[])[] } {
  const seen: (readonly ChatMessage[])[] = [];
  return { provider: 'recording', model: 'recording', seen, stream: (messages) => (seen.push(messages), of(answer)) };
}


describe('the pattern recognizers', () => {
  const mask = maskSensitiveData({ entities: PATTERN_ENTITIES });

  it.each([
    ['Card 4111 1111 1111 1111, mail alice.smith@example.org', 'Card <CREDIT_CARD>, mail <EMAIL_ADDRESS>'],
    ['Amex 3782 822463 10005 and 5555555555554444.', 'Amex <CREDIT_CARD> and <CREDIT_CARD>.'],
    ['IBAN DE89 3704 0044 0532 0130 00, thanks', 'IBAN <IBAN_CODE>, thanks'],
    ['GB82WEST12345698765432 AND MORE', '<IBAN_CODE> AND MORE'],
    ['Call (555) 234-5678, +44 20 7946 0958 or 020 7946 0958.', 'Call <PHONE_NUMBER>, <PHONE_NUMBER> or <PHONE_NUMBER>.'],
    // Before a time, in a list, after another: each number is still one (they were let through raw).
    ['Reach me at 555-234-5678 9am-5pm', 'Reach me at <PHONE_NUMBER> 9am-5pm'],
    ['numbers: 555-234-5678 555-876-5432', 'numbers: <PHONE_NUMBER> <PHONE_NUMBER>'],
    ['Call me at (212) 555-0143 24/7', 'Call me at <PHONE_NUMBER> 24/7'],
    // A second grouped IBAN right after a first (the first match ran on into it).
    ['Send to DE89 3704 0044 0532 0130 00 and GB82 WEST 1234 5698 7654 32', 'Send to <IBAN_CODE> and <IBAN_CODE>'],
    // A URL's closing punctuation stays outside it.
    ['see http://example.org/a).', 'see <URL>).'],
    ['Hosts 192.168.1.1, ::1 and 2001:db8::8a2e:370:7334.', 'Hosts <IP_ADDRESS>, <IP_ADDRESS> and <IP_ADDRESS>.'],
    ['::ffff:10.0.0.1 maps IPv4', '<IP_ADDRESS> maps IPv4'],
    ['SSN 536-22-1234', 'SSN <US_SSN>'],
    ['my ssn: 536221234', 'my ssn: <US_SSN>'],
    ['ITIN 912-70-1234', 'ITIN <US_ITIN>'],
    ['NHS number 943 476 5919', 'NHS number <UK_NHS>'],
    ['See https://example.com/a?b=c. Or www.example.org!', 'See <URL>. Or <URL>!'],
  ])('should mask %j', (text, expected) => {
    expect(mask(text)).toBe(expected);
  });

  it.each([
    ['a card number with a wrong Luhn digit', 'Card 4111 1111 1111 1112'],
    ['an IBAN with a wrong checksum', 'IBAN DE88 3704 0044 0532 0130 00'],
    ['an IBAN of the wrong length for its country', 'IBAN DE89 3704 0044 0532 0130 0'],
    ['an IP address out of range', 'Version 999.1.1.1'],
    ['a dotted version number', 'Version 1.2.3.4.5 is out'],
    ['a time', 'at 12:30:45'],
    ['a C++ scope', 'std::vector<int>'],
    ['an SSN the SSA never issues', 'SSN 078-05-1120, 000-12-3456, 666-12-3456, 123-00-4567'],
    ['an SSN with mixed separators', 'SSN 536-22.1234'],
    ['a bare nine-digit number without context', 'Order 536221234 shipped'],
    ['a date', 'On 2024-01-05 at noon'],
    ['an order number', 'Order #12345'],
  ])('should leave %s alone', (_, text) => {
    expect(mask(text)).toBe(text);
  });

  it('should not count a weak pattern below the threshold, but count it with a context word', () => {
    expect(detectSensitiveData({ entities: ['US_SSN'] }).check('id 536221234', contextOf('id 536221234'))).toBe(true);
    expect(detectSensitiveData({ entities: ['US_SSN'] }).check('social security 536221234', contextOf('social security 536221234'))).toMatchObject({ allowed: false });
  });

  it('should report entity types and offsets, never the sensitive text', () => {
    const text = 'Mail alice@example.org now';
    const decision = detectSensitiveData({ entities: ['EMAIL_ADDRESS'] }).check(text, contextOf(text));
    expect(decision).toEqual({ allowed: false, reason: 'found sensitive data: EMAIL_ADDRESS', details: { entities: [{ entity: 'EMAIL_ADDRESS', start: 5, end: 22, score: 1 }] } });
    expect(JSON.stringify(decision)).not.toContain('alice');
  });

  it('should block under guard in both modes: it judges, it does not rewrite', async () => {
    const rail = detectSensitiveData({ entities: ['EMAIL_ADDRESS'] });
    expect(rail.rewrites).toBeUndefined();
    for (const streamFirst of [true, false]) {
      const { error } = await collect(of('Mail ', 'alice@example.org', ' now').pipe(guard([rail], { chunkSize: 2, contextSize: 1, streamFirst })));
      expect((error as RailViolationError).info.verdict.kind).toBe('violation');
    }
  });

  describe('checksums (properties)', () => {
    const digits = (length: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: length, maxLength: length }).map((list) => list.join(''));
    const luhnDigit = (body: string) => {
      let sum = 0;
      for (let position = 0; position < body.length; position++) {
        let digit = Number(body[body.length - 1 - position]);
        if (position % 2 === 0) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
        sum += digit;
      }
      return String((10 - (sum % 10)) % 10);
    };
    /** One digit of `text` (at a digit position) replaced by another digit. */
    const corrupt = (text: string, position: number, shift: number) => {
      const places = [...text].flatMap((character, index) => (/\d/.test(character) ? [index] : []));
      const place = places[position % places.length]!;
      return text.slice(0, place) + String((Number(text[place]) + shift) % 10) + text.slice(place + 1);
    };
    const only = (entity: string) => maskSensitiveData({ entities: [entity] });

    it('should accept every card number with a valid Luhn digit, and reject it with any one digit changed', () => {
      const cards = fc.tuple(fc.constantFrom('4', '51', '37', '6011'), fc.integer({ min: 13, max: 19 })).chain(([prefix, length]) =>
        digits(length - prefix.length - 1).map((body) => prefix + body + luhnDigit(prefix + body)),
      );
      fc.assert(
        fc.property(cards, fc.nat(), fc.integer({ min: 1, max: 9 }), (card, position, shift) => {
          expect(only('CREDIT_CARD')(`pay with ${card} today`)).toBe('pay with <CREDIT_CARD> today');
          const corrupted = corrupt(card, position, shift);
          expect(only('CREDIT_CARD')(`pay with ${corrupted} today`)).toBe(`pay with ${corrupted} today`);
        }),
        { numRuns: 300 },
      );
    });

    it('should accept every IBAN with its country length and check digits, and reject it with any one digit changed', () => {
      const countries = { DE: 22, GB: 22, FR: 27, NL: 18, NO: 15, IT: 27, ES: 24, CH: 21 } as const;
      const ibans = fc.constantFrom(...(Object.keys(countries) as (keyof typeof countries)[])).chain((country) =>
        digits(countries[country] - 4).map((bban) => {
          const numeric = (bban + country + '00').replace(/[A-Z]/g, (letter) => String(letter.charCodeAt(0) - 55));
          const check = 98 - Number(BigInt(numeric) % 97n);
          return `${country}${String(check).padStart(2, '0')}${bban}`;
        }),
      );
      fc.assert(
        fc.property(ibans, fc.nat(), fc.integer({ min: 1, max: 9 }), (iban, position, shift) => {
          expect(only('IBAN_CODE')(`IBAN ${iban} ok`)).toBe('IBAN <IBAN_CODE> ok');
          const grouped = iban.replace(/(.{4})/g, '$1 ').trim();
          expect(only('IBAN_CODE')(`IBAN ${grouped} ok`)).toBe('IBAN <IBAN_CODE> ok');
          const corrupted = corrupt(iban, position, shift);
          expect(only('IBAN_CODE')(`IBAN ${corrupted} ok`)).toBe(`IBAN ${corrupted} ok`);
        }),
        { numRuns: 300 },
      );
    });

    it('should accept every NHS number with its mod-11 digit, and reject it with any one digit changed', () => {
      const numbers = digits(9)
        .map((body) => {
          const sum = [...body].reduce((total, digit, index) => total + Number(digit) * (10 - index), 0);
          const check = 11 - (sum % 11);
          return check === 10 ? undefined : body + String(check === 11 ? 0 : check);
        })
        .filter((number): number is string => number !== undefined);
      fc.assert(
        fc.property(numbers, fc.nat(), fc.integer({ min: 1, max: 9 }), (number, position, shift) => {
          expect(only('UK_NHS')(`NHS ${number}.`)).toBe('NHS <UK_NHS>.');
          const corrupted = corrupt(number, position, shift);
          expect(only('UK_NHS')(`NHS ${corrupted}.`)).toBe(`NHS ${corrupted}.`);
        }),
        { numRuns: 300 },
      );
    });
  });

  it('should never throw, and mask only inside the text, on any text', () => {
    const detect = detectSensitiveData({ entities: PATTERN_ENTITIES, scoreThreshold: 0 });
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789 .:-+()@abcdefABCDEF/_wxyz\n'.split('')), maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 100 }), (shaped, arbitrary) => {
        for (const text of [shaped, arbitrary, shaped + arbitrary]) {
          expect(typeof mask(text)).toBe('string');
          const decision = detect.check(text, contextOf(text));
          if (decision !== true) {
            for (const finding of (decision as unknown as { details: { entities: { start: number; end: number }[] } }).details.entities) {
              expect(finding.start).toBeGreaterThanOrEqual(0);
              expect(finding.end).toBeLessThanOrEqual(text.length);
              expect(finding.start).toBeLessThan(finding.end);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('should take time linear in the text on adversarial input (growth ratio)', () => {
    const detect = detectSensitiveData({ entities: PATTERN_ENTITIES });
    const mask = maskSensitiveData({ entities: PATTERN_ENTITIES });
    const adversarial: ((size: number) => string)[] = [
      (size) => 'a'.repeat(size),
      (size) => 'a.'.repeat(size / 2) + '@',
      (size) => '1 '.repeat(size / 2),
      (size) => '1-'.repeat(size / 2),
      (size) => ':'.repeat(size),
      (size) => 'ab:'.repeat(size / 3),
      (size) => '1.'.repeat(size / 2),
      (size) => 'DE89 '.repeat(size / 5),
      (size) => 'http://' + 'a'.repeat(size),
      (size) => '+1 '.repeat(size / 3),
      // A URL's trailing punctuation before a letter, and runs of it (a pattern anchored at $ backtracked on them).
      (size) => 'see http://x' + '.'.repeat(size) + 'a',
      (size) => 'see http://x' + '),'.repeat(size / 2) + 'a',
      (size) => 'see http://x' + '!'.repeat(size) + 'a',
      // Many findings: choosing among overlapping ones compared each with every one kept.
      (size) => '1.2.3.4 '.repeat(size / 8),
      (size) => 'a@b.co '.repeat(size / 7),
    ];
    const both = (text: string) => {
      detect.check(text, contextOf(text));
      mask(text);
    };
    for (const make of adversarial) {
      const large = make(40_000);
      const ratio = growthRatio(both, make(10_000), large, 3);
      expect({ sample: large.slice(0, 10), linear: ratio < LINEAR_BOUND }).toEqual({ sample: large.slice(0, 10), linear: true });
    }
  });

  it('should validate its options', () => {
    expect(() => detectSensitiveData({ entities: ['PERSON'] })).toThrow(InvalidOptionError);
    expect(() => detectSensitiveData({ entities: ['PERSON'] })).toThrow(/entities\[0\] is PERSON, which needs a named-entity model: set analyzerEndpoint/);
    expect(() => detectSensitiveData({ entities: ['EMAIL_ADDRESS'], scoreThreshold: 1.5 })).toThrow('scoreThreshold must be a number from 0 to 1, got 1.5');
    expect(() => detectSensitiveData({ entities: ['X'], recognizers: [{ supportedEntity: 'X', patterns: [{ regex: '(a)\\1', score: 1 }] }] })).toThrow(
      /recognizers\[0\]\.patterns\[0\]\.regex .*backreference/,
    );
    expect(() => detectSensitiveData({ entities: ['X'], recognizers: [{ supportedEntity: 'X' }] })).toThrow('recognizers[0] needs a deny list or patterns');
    // The URL parser reads the analyzer's address: a space in its host, or no scheme, is refused now, not at fetch time.
    for (const analyzerEndpoint of ['http://exa mple/analyze', 'localhost:5002/analyze', 'ftp://example/analyze']) {
      expect(() => detectSensitiveData({ entities: ['PERSON'], analyzerEndpoint })).toThrow(`analyzerEndpoint must be an http(s) URL, got ${JSON.stringify(analyzerEndpoint)}`);
    }
  });
});

describe('sensitive data detection in a config', () => {
  let analyzer: JsonService;
  let analyze: (body: { text: string; entities: string[] }) => ServiceAnswer;

  /** Presidio's answer for the names it knows (a stand-in NER model): PERSON at each of them, code-point offsets. */
  const people =
    (...names: string[]) =>
    ({ text }: { text: string }): ServiceAnswer => {
      const results = names.flatMap((name) => {
        const index = text.indexOf(name);
        if (index === -1) return [];
        const start = [...text.slice(0, index)].length;
        return [{ entity_type: 'PERSON', start, end: start + [...name].length, score: 0.85, analysis_explanation: null, recognition_metadata: { recognizer_name: 'SpacyRecognizer' } }];
      });
      return { json: results };
    };

  beforeEach(async () => {
    analyze = people('John');
    analyzer = await jsonService((request) => analyze(request.body as { text: string; entities: string[] }));
  });
  afterEach(() => analyzer.close());

  const TITLES = { name: 'Titles recognizer', supported_language: 'en', supported_entity: 'TITLE', deny_list: ['Mr.', 'Mrs.', 'Dr.'] };

  function config(rails: Record<string, unknown>, detection: Record<string, unknown>, top: Record<string, unknown> = {}) {
    return RailsConfig.fromContent(
      {
        models: [{ type: 'main', engine: 'scripted', parameters: { responses: ['Hello!'] } }],
        ...top,
        rails: { ...rails, config: { sensitive_data_detection: { analyzer_endpoint: `${analyzer.url}/analyze`, ...detection } } },
      },
      { file: 'config.yml' },
    );
  }

  describe('mask sensitive data on input', () => {
    it("should hand the model NeMo's masked message: Hi! I am <TITLE> <PERSON>!", async () => {
      const main = recordingModel();
      const rails = new LLMRails(config({ input: { flows: ['mask sensitive data on input'] } }, { recognizers: [TITLES], input: { entities: ['PERSON', 'TITLE'] } }), { models: { main } });
      expect(await collect(rails.stream(ask('Hi! I am Mr. John!')))).toEqual({ items: ['Noted.'], completed: true });
      expect(main.seen).toEqual([
        [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hi! I am <TITLE> <PERSON>!' },
        ],
      ]);
      expect(analyzer.requests[0]).toMatchObject({ method: 'POST', path: '/analyze', body: { text: 'Hi! I am Mr. John!', language: 'en', entities: ['PERSON'], score_threshold: 0.2 } });
    });

    it('should mask before the other input rails and the output rails see the message', async () => {
      const seen: string[] = [];
      const rails = new LLMRails(
        config(
          { input: { flows: ['detect sensitive data on input', 'spy', 'mask sensitive data on input'] }, output: { flows: ['spy out'] } },
          { input: { entities: ['EMAIL_ADDRESS', 'PERSON'] } },
        ),
        {
          models: { main: recordingModel() },
          rails: { spy: (text) => (seen.push(`input: ${text}`), true), 'spy out': (_, context) => (seen.push(`output: ${context.userMessage}`), true) },
        },
      );
      // The detect flow sees the masked message too: nothing sensitive is left, so nothing is refused.
      expect(await collect(rails.answer(ask('I am John, write to john@example.org')))).toEqual({ items: ['Noted.'], completed: true });
      expect(seen).toEqual(['input: I am <PERSON>, write to <EMAIL_ADDRESS>', 'output: I am <PERSON>, write to <EMAIL_ADDRESS>']);
    });

    it('should honour score_threshold (NeMo: masking honours it): 0.9 leaves an 0.85 PERSON alone', async () => {
      const main = recordingModel();
      const rails = new LLMRails(config({ input: { flows: ['mask sensitive data on input'] } }, { input: { entities: ['PERSON', 'EMAIL_ADDRESS'], score_threshold: 0.9 } }), {
        models: { main },
      });
      await collect(rails.stream(ask('I am John, john@example.org')));
      expect(main.seen[0]!.at(-1)!.content).toBe('I am John, <EMAIL_ADDRESS>');
    });

    it("should convert Presidio's code-point offsets to JavaScript's", async () => {
      const main = recordingModel();
      const rails = new LLMRails(config({ input: { flows: ['mask sensitive data on input'] } }, { input: { entities: ['PERSON'] } }), { models: { main } });
      await collect(rails.stream(ask('😀😀 Hello John 👋')));
      expect(main.seen[0]!.at(-1)!.content).toBe('😀😀 Hello <PERSON> 👋');
    });

    it('should fail closed when the analyzer fails: the model is never called', async () => {
      analyze = () => ({ status: 500, text: 'spaCy fell over' });
      const main = recordingModel();
      const rails = new LLMRails(config({ input: { flows: ['mask sensitive data on input'] } }, { input: { entities: ['PERSON'] } }), { models: { main } });
      expect(await collect(rails.stream(ask('I am John')))).toEqual({ items: [INTERNAL_ERROR], completed: true });
      expect(main.seen).toEqual([]);
    });

    it('should need no analyzer, and no request, for pattern entities only', async () => {
      const main = recordingModel();
      const data = RailsConfig.fromContent({
        models: [{ type: 'main', engine: 'scripted', parameters: { responses: ['x'] } }],
        rails: { input: { flows: ['mask sensitive data on input'] }, config: { sensitive_data_detection: { input: { entities: ['CREDIT_CARD'] } } } },
      });
      await collect(new LLMRails(data, { models: { main } }).stream(ask('Card 4111 1111 1111 1111')));
      expect(main.seen[0]!.at(-1)!.content).toBe('Card <CREDIT_CARD>');
      expect(analyzer.requests).toEqual([]);
    });

    it('should record the masking in the activated rails', async () => {
      const rails = new LLMRails(config({ input: { flows: ['mask sensitive data on input'] } }, { input: { entities: ['PERSON'] } }), { models: { main: recordingModel() } });
      const response = await rails.generate(ask('I am John'), { options: { log: { activatedRails: true } } });
      expect(response.log?.activatedRails).toEqual([expect.objectContaining({ type: 'input', name: 'mask sensitive data on input', decisions: ['allowed: masked sensitive data'] })]);
    });
  });

  describe('detect sensitive data', () => {
    it('should refuse a user message with sensitive data (NeMo: detection refusal), without calling the model', async () => {
      const main = recordingModel();
      const rails = new LLMRails(config({ input: { flows: ['detect sensitive data on input'] } }, { input: { entities: ['PERSON', 'EMAIL_ADDRESS'] } }), { models: { main } });
      expect(await collect(rails.stream(ask('Hi! My name is John as well.')))).toEqual({ items: [REFUSAL], completed: true });
      expect(await collect(rails.stream(ask('Hi! What is the weather like?')))).toEqual({ items: ['Noted.'], completed: true });
      expect(main.seen).toHaveLength(1);
    });

    it("should take NeMo's custom deny-list recognizer", async () => {
      const rails = new LLMRails(config({ input: { flows: ['detect sensitive data on input'] } }, { recognizers: [TITLES], input: { entities: ['TITLE'] } }), {
        models: { main: recordingModel() },
        onInputViolation: 'error',
      });
      const { error } = await collect(rails.stream(ask('Ask dr. Who')));
      expect((error as RailViolationError).info.verdict).toMatchObject({ rail: 'detect sensitive data on input', reason: 'found sensitive data: TITLE' });
      // Whole words only.
      expect(await collect(rails.stream(ask('Drones are fun')))).toEqual({ items: ['Noted.'], completed: true });
    });

    it('should take custom patterns with their scores against the threshold', async () => {
      const recognizers = [{ supported_entity: 'TICKET', patterns: [{ name: 'ticket', regex: 'TCK-\\d{6}', score: 0.3 }] }];
      const strict = new LLMRails(config({ input: { flows: ['detect sensitive data on input'] } }, { recognizers, input: { entities: ['TICKET'], score_threshold: 0.5 } }), {
        models: { main: recordingModel() },
      });
      const loose = new LLMRails(config({ input: { flows: ['detect sensitive data on input'] } }, { recognizers, input: { entities: ['TICKET'] } }), { models: { main: recordingModel() } });
      expect((await collect(strict.stream(ask('see tck-123456')))).items).toEqual(['Noted.']);
      expect((await collect(loose.stream(ask('see tck-123456')))).items).toEqual([REFUSAL]);
    });

    it('should let score_threshold 1.0 disable an analyzer entity scored below it (NeMo: 1.0 disables)', async () => {
      const rails = new LLMRails(config({ input: { flows: ['detect sensitive data on input'] } }, { input: { entities: ['PERSON'], score_threshold: 1 } }), {
        models: { main: recordingModel() },
      });
      expect((await collect(rails.stream(ask('Hi! My name is John as well.')))).items).toEqual(['Noted.']);
    });

    it("should block a streamed answer's window with NeMo's payload naming the output flow", async () => {
      const data = config(
        { output: { flows: ['detect sensitive data on output'], streaming: { enabled: true, chunk_size: 6, context_size: 2, stream_first: false, on_violation: 'chunk' } } },
        { output: { entities: ['EMAIL_ADDRESS', 'CREDIT_CARD'] } },
        { streaming: true },
      );
      const rails = new LLMRails(data, { models: { main: { provider: 'words', model: 'words', stream: () => of(...'Sure, the address is bob@example.org and more text here'.split(/(?= )/)) } } });
      const { items } = await collect(rails.stream(ask('What is the address?')));
      expect(items.at(-1)).toBe(
        '{"error": {"message": "Blocked by detect sensitive data on output rails.", "type": "guardrails_violation", "param": "detect sensitive data on output", "code": "content_blocked"}}',
      );
      expect(items.join('')).not.toContain('bob@');
    });

    describe('an analyzer that misbehaves fails the check, closed', () => {
      it.each<[string, ServiceAnswer, RegExp]>([
        ['answers 500', { status: 500 }, /answered HTTP 500$/],
        ['answers malformed JSON', { text: '[{"entity_type": ' }, /answered malformed JSON/],
        ['answers an object, not a list', { json: { results: [] } }, /answered an object, not a list of results/],
        ['answers results without offsets', { json: [{ entity_type: 'PERSON', score: 0.9 }] }, /answered a result without entity_type, start, end and score within the text/],
        ['answers offsets beyond the text', { json: [{ entity_type: 'PERSON', start: 0, end: 999, score: 0.9 }] }, /within the text/],
      ])('should fail closed when the analyzer %s', async (_, reply, reason) => {
        analyze = () => reply;
        const rails = new LLMRails(config({ input: { flows: ['detect sensitive data on input'] } }, { input: { entities: ['PERSON'] } }), {
          models: { main: recordingModel() },
          onInputViolation: 'error',
        });
        const { error } = await collect(rails.stream(ask('I am John')));
        expect((error as RailViolationError).info.verdict).toMatchObject({ kind: 'internal_error', allowed: false, reason: expect.stringMatching(reason) });
      });

      it('should fail closed when the analyzer stalls past check_timeout_ms, and close the request', async () => {
        analyze = () => 'stall';
        const data = config({ input: { flows: ['detect sensitive data on input'], check_timeout_ms: 200 } }, { input: { entities: ['PERSON'] } });
        const rails = new LLMRails(data, { models: { main: recordingModel() } });
        expect(await collect(rails.stream(ask('I am John')))).toEqual({ items: [INTERNAL_ERROR], completed: true });
        await analyzer.closed(analyzer.requests[0]!);
      });

      it('should abort the request when the stream is unsubscribed', async () => {
        analyze = () => 'stall';
        const rails = new LLMRails(config({ input: { flows: ['mask sensitive data on input'] } }, { input: { entities: ['PERSON'] } }), { models: { main: recordingModel() } });
        const subscription = rails.stream(ask('I am John')).subscribe();
        const request = await analyzer.arrived(1);
        subscription.unsubscribe();
        await analyzer.closed(request);
        expect(request.closedEarly).toBe(true);
      });
    });
  });

  describe('config errors', () => {
    const load = (rails: Record<string, unknown>, detection?: Record<string, unknown>) => () =>
      RailsConfig.fromContent(
        { models: [{ type: 'main', engine: 'scripted', parameters: { responses: ['x'] } }], rails: { ...rails, ...(detection ? { config: { sensitive_data_detection: detection } } : {}) } },
        { file: 'config.yml' },
      );

    it('should refuse an entity that needs a named-entity model without an analyzer, at its key, naming analyzer_endpoint', () => {
      const error = configErrorOf(load({ input: { flows: ['detect sensitive data on input'] } }, { input: { entities: ['EMAIL_ADDRESS', 'PERSON'] } }));
      expect(error.issues).toEqual([
        expect.objectContaining({
          key: 'rails.config.sensitive_data_detection.input.entities[1]',
          message:
            "PERSON, which needs a named-entity model: set rails.config.sensitive_data_detection.analyzer_endpoint to a Presidio analyzer's /analyze URL (without one rxguardrails recognizes EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, IBAN_CODE, IP_ADDRESS, US_SSN, US_ITIN, UK_NHS, URL and the entities of recognizers)",
        }),
      ]);
    });

    it('should report that problem once when detect and mask both read the input entities', () => {
      const error = configErrorOf(load({ input: { flows: ['detect sensitive data on input', 'mask sensitive data on input'] } }, { input: { entities: ['LOCATION'] } }));
      expect(error.issues).toHaveLength(1);
    });

    it("should load 'mask sensitive data on output' (its streaming rule: spec/rails/maskSensitiveDataRail.spec.ts)", () => {
      expect(load({ output: { flows: ['mask sensitive data on output'] } }, { output: { entities: ['EMAIL_ADDRESS'] } })()).toBeInstanceOf(RailsConfig);
    });

    it("should ask for the side's entities", () => {
      expect(configErrorOf(load({ output: { flows: ['detect sensitive data on output'] } }, { input: { entities: ['EMAIL_ADDRESS'] } })).issues[0]!.message).toBe(
        "flow 'detect sensitive data on output' needs the entity types to look for under rails.config.sensitive_data_detection.output.entities (EMAIL_ADDRESS, CREDIT_CARD, ...)",
      );
      expect(configErrorOf(load({ input: { flows: ['mask sensitive data on input'] } })).issues[0]!.message).toBe(
        "flow 'mask sensitive data on input' needs its entity types under rails.config.sensitive_data_detection.input.entities",
      );
    });

    it('should refuse a score_threshold outside [0, 1] at load (NeMo: an internal error at the first check)', () => {
      expect(configErrorOf(load({}, { input: { entities: ['EMAIL_ADDRESS'], score_threshold: 1.5 } })).issues).toEqual([
        expect.objectContaining({ key: 'rails.config.sensitive_data_detection.input.score_threshold', message: 'must be a number from 0 to 1' }),
      ]);
    });

    it('should place a recognizer pattern the linear-time engine cannot run at its key (the engine loaded, as Node loads it)', async () => {
      await loadFlowModules();
      const detection = { recognizers: [{ supported_entity: 'X', patterns: [{ regex: '(?=a)b', score: 0.5 }] }], input: { entities: ['X'] } };
      expect(configErrorOf(load({ input: { flows: ['detect sensitive data on input'] } }, detection)).issues).toEqual([
        expect.objectContaining({ key: 'rails.config.sensitive_data_detection.recognizers[0].patterns[0].regex', message: expect.stringContaining('lookahead') }),
      ]);
    });

    it('should refuse a flow on the wrong side', () => {
      expect(configErrorOf(load({ output: { flows: ['detect sensitive data on input'] } }, { input: { entities: ['EMAIL_ADDRESS'] } })).issues[0]!.message).toBe(
        "flow 'detect sensitive data on input' is an input rail in NeMo: list it under rails.input.flows",
      );
    });
  });
});
