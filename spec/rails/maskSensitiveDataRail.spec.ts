// `mask sensitive data on output`, done right: masking is a rewrite on the release path (NeMo's streaming releases
// the raw window). The properties on random answers holding e-mail addresses, card numbers with a valid Luhn digit,
// phone numbers and IP addresses, random tokenizations and random window sizes: no character of a raw entity of at
// most contextSize + 1 items is ever released, the released text is the masked whole answer, and every item goes
// out once, in order. Then the flow through a config, in LLMRails (streaming and whole answer) and the server.
import fc from 'fast-check';
import { concat, from, throwError } from 'rxjs';
import { ConfigError, defineRail, guard, InvalidOptionError, keywordRail, LLMRails, RailsConfig, RailViolationError, type RailDecision, scriptedModel } from 'rxguardrails';
import { maskSensitiveData, maskSensitiveDataRail } from 'rxguardrails/detectors';
import { collect, collectNow } from '../support/collect.js';
import { configErrorOf } from '../support/configErrors.js';
import { jsonService } from '../support/jsonService.js';
import { releasedItems, tokenize } from '../support/rewriteModel.js';
import { growingSizeArbitrary } from '../support/windowModel.js';

const ENTITIES = ['EMAIL_ADDRESS', 'CREDIT_CARD', 'PHONE_NUMBER', 'IP_ADDRESS'];
const contextOf = (text: string) => ({ messages: [], batch: { index: 0, text, chunks: [text], final: true, overlap: 0 }, signal: new AbortController().signal });
const ask = (content: string) => [{ role: 'user' as const, content }];

/** A 16-digit card number starting with 4 whose last digit is its Luhn check digit. */
const cardArbitrary = fc.tuple(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 14, maxLength: 14 }), fc.boolean()).map(([digits, spaced]) => {
  const body = [4, ...digits];
  let sum = 0;
  // The check digit's neighbour (the body's last digit) is doubled, then every other one to the left.
  body.forEach((digit, position) => {
    const doubled = (body.length - position) % 2 === 1 ? digit * 2 : digit;
    sum += doubled > 9 ? doubled - 9 : doubled;
  });
  const number = [...body, (10 - (sum % 10)) % 10].join('');
  return spaced ? (number.match(/\d{4}/g) ?? []).join(' ') : number;
});
const emailArbitrary = fc
  .tuple(
    fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'), minLength: 1, maxLength: 6 }),
    fc.option(fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'), minLength: 1, maxLength: 5 }), { nil: undefined }),
    fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'), minLength: 2, maxLength: 8 }),
    fc.constantFrom('com', 'org', 'io', 'net'),
  )
  .map(([name, more, domain, tld]) => `${name}${more === undefined ? '' : `.${more}`}@${domain}.${tld}`);
const phoneArbitrary = fc
  .tuple(fc.integer({ min: 200, max: 999 }), fc.integer({ min: 200, max: 999 }), fc.integer({ min: 0, max: 9999 }), fc.boolean())
  .map(([area, exchange, line, parenthesized]) => `${parenthesized ? `(${area}) ` : `${area}-`}${exchange}-${String(line).padStart(4, '0')}`);
const ipArbitrary = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }).map((parts) => parts.join('.'));
const entityArbitrary = fc.oneof(cardArbitrary, emailArbitrary, phoneArbitrary, ipArbitrary);
/** Words no recognizer reads as (part of) an entity: letters only. */
const wordArbitrary = fc.string({ unit: fc.constantFrom(...'fghjkmnpqrstuvwxyz'), minLength: 1, maxLength: 6 });

/** Words and entities, an entity never next to another (a card right before a phone number reads differently). */
const answerCase = growingSizeArbitrary.chain((size) =>
  fc.record({
    size: fc.constant(size),
    parts: fc.array(fc.tuple(fc.array(wordArbitrary, { minLength: 1, maxLength: 3 }), fc.option(entityArbitrary, { nil: undefined })), { minLength: 1, maxLength: 5 }),
    cuts: fc.array(fc.nat(), { maxLength: 60 }),
    cutAt: fc.nat(),
  }),
);

describe('maskSensitiveDataRail', () => {
  const rail = maskSensitiveDataRail({ entities: ENTITIES });

  it('should answer each entity as a rewrite to <ENTITY_TYPE>, and never block', () => {
    const text = 'Card 4111 1111 1111 1111, mail alice.smith@example.org';
    expect(rail.name).toBe('mask sensitive data');
    expect(rail.check(text, contextOf(text))).toEqual({
      allowed: true,
      reason: 'masked sensitive data: CREDIT_CARD, EMAIL_ADDRESS',
      rewrites: [
        { index: 5, length: 19, text: '<CREDIT_CARD>' },
        { index: 31, length: 23, text: '<EMAIL_ADDRESS>' },
      ],
    });
  });

  it('should allow a window without entities with a plain true', () => {
    expect(rail.check('nothing here', contextOf('nothing here'))).toBe(true);
  });

  it('should take its name and refuse an entity that needs a model without an analyzer', () => {
    expect(maskSensitiveDataRail({ entities: ['URL'], name: 'pii' }).name).toBe('pii');
    expect(() => maskSensitiveDataRail({ entities: ['PERSON'] })).toThrow(/^maskSensitiveDataRail: entities\[0\] is PERSON, which needs a named-entity model/);
  });

  it('should mask a streamed answer whatever the tokens', () => {
    const tokens = ['Mail ', 'bob', '@example', '.org', ' now'];
    expect(collectNow(from(tokens).pipe(guard([maskSensitiveDataRail({ entities: ['EMAIL_ADDRESS'] })], { chunkSize: 4, contextSize: 2, streamFirst: false })))).toEqual({
      items: ['Mail ', '<EMAIL_ADDRESS>', ' now'],
      completed: true,
    });
  });

  it('should mask alongside judging rails run in parallel, which still block', () => {
    const tokens = ['Mail ', 'bob@example.org', ' today', ' about', ' the', ' plan'];
    const options = { chunkSize: 3, contextSize: 1, streamFirst: false, parallel: true } as const;
    expect(collectNow(from(tokens.slice(0, 4)).pipe(guard([keywordRail(['plan']), rail], options)))).toEqual({ items: ['Mail ', '<EMAIL_ADDRESS>', ' today', ' about'], completed: true });
    const blocked = collectNow(from(tokens).pipe(guard([keywordRail(['plan']), rail], options)));
    // Windows [Mail bob@], [bob@ today about], [about the plan]: the last blocks, so ' about' (held as the context of
    // the second) never goes out.
    expect(blocked.items).toEqual(['Mail ', '<EMAIL_ADDRESS>', ' today']);
    expect(RailViolationError.isInstance(blocked.error)).toBe(true);
  });

  it('should mask the names a Presidio analyzer finds, asynchronously, across tokens', async () => {
    const analyzer = await jsonService(({ body }) => {
      const { text } = body as { text: string };
      const index = text.indexOf('John Smith');
      return { json: index === -1 ? [] : [{ entity_type: 'PERSON', start: [...text.slice(0, index)].length, end: [...text.slice(0, index)].length + 10, score: 0.85 }] };
    });
    try {
      const people = maskSensitiveDataRail({ entities: ['PERSON', 'EMAIL_ADDRESS'], analyzerEndpoint: `${analyzer.url}/analyze` });
      const tokens = ['😀 Ask ', 'Jo', 'hn ', 'Smi', 'th', ' at ', 'js@example.org', ' today'];
      const outcome = await collect(from(tokens).pipe(guard([people], { chunkSize: 4, contextSize: 3, streamFirst: false })));
      expect(outcome).toEqual({ items: ['😀 Ask ', '<PERSON>', ' at ', '<EMAIL_ADDRESS>', ' today'], completed: true });
    } finally {
      await analyzer.close();
    }
  });

  describe('properties, on random answers, tokenizations and window sizes (streamFirst: false)', () => {
    const mask = maskSensitiveData({ entities: ENTITIES }) as (text: string) => string;

    /** The answer, the spans masking the whole of it rewrites, and its items (an entity on at most contextSize + 1). */
    function build({ size, parts, cuts }: { size: { contextSize: number }; parts: [string[], string | undefined][]; cuts: number[] }) {
      const text = parts.map(([words, entity]) => `${words.join(' ')}${entity === undefined ? '' : ` ${entity}`}`).join(' ');
      const decision = rail.check(text, contextOf(text)) as RailDecision | true;
      const spans = (decision === true ? [] : (decision.rewrites ?? [])).map(({ index, length, text: replacement }) => ({ start: index, end: index + length, text: replacement }));
      return { text, spans, items: tokenize(text, cuts, spans, size.contextSize + 1) };
    }

    it('should release the masked whole answer, item by item, and never a character of an entity', () => {
      fc.assert(
        fc.property(answerCase, (testCase) => {
          const { text, spans, items } = build(testCase);
          const released: string[] = [];
          from(items)
            .pipe(guard([rail], { ...testCase.size, streamFirst: false }))
            .subscribe((item) => {
              released.push(item);
              // Words are letters and spaces, masks <LETTERS_AND_UNDERSCORES>: a digit, @, dot, dash or parenthesis
              // out is part of a raw entity.
              expect(item).not.toMatch(/[\d@.()-]/);
            });
          expect(released.join('')).toBe(mask(text));
          // Order and completeness: each item once, in order, rewritten where a span starts.
          expect(released).toEqual(releasedItems(items, spans));
        }),
        { numRuns: 1000 },
      );
    });

    it('should release a prefix of the masked answer, no character of an entity, when the stream fails midway', () => {
      fc.assert(
        fc.property(answerCase, (testCase) => {
          const { text, items } = build(testCase);
          const cut = testCase.cutAt % (items.length + 1);
          const outcome = collectNow(concat(from(items.slice(0, cut)), throwError(() => new Error('cut'))).pipe(guard([rail], { ...testCase.size, streamFirst: false })));
          const released = outcome.items.join('');
          expect(mask(text).startsWith(released)).toBe(true);
          expect(released).not.toMatch(/[\d@.()-]/);
        }),
        { numRuns: 500 },
      );
    });
  });
});

describe("the flow 'mask sensitive data on output'", () => {
  const answer = 'Write to alice.smith@example.org or call (555) 234-5678, card 4111 1111 1111 1111.';
  const masked = 'Write to <EMAIL_ADDRESS> or call <PHONE_NUMBER>, card <CREDIT_CARD>.';
  const config = (streaming: Record<string, unknown>) =>
    RailsConfig.fromContent(
      {
        models: [{ type: 'main', engine: 'scripted', parameters: { responses: [answer] } }],
        rails: {
          output: { flows: ['mask sensitive data on output'], streaming },
          config: { sensitive_data_detection: { output: { entities: ['EMAIL_ADDRESS', 'PHONE_NUMBER', 'CREDIT_CARD'] } } },
        },
      },
      { file: 'config.yml' },
    );

  it('should stream the answer masked, never a raw token of an entity (stream_first: False)', async () => {
    const rails = new LLMRails(config({ enabled: true, chunk_size: 4, context_size: 3, stream_first: false }));
    const outcome = await collect(rails.stream(ask('How do I reach Alice?')));
    expect(outcome.completed).toBe(true);
    expect(outcome.items.join('')).toBe(masked);
    for (const item of outcome.items) expect(item).not.toMatch(/\d|@/);
  });

  it('should mask the whole answer without streaming output rails (generate)', async () => {
    const rails = new LLMRails(config({ enabled: false }));
    expect(await rails.generate(ask('How do I reach Alice?'))).toEqual({ role: 'assistant', content: masked });
  });

  it('should log the masking in the activated rails', async () => {
    const rails = new LLMRails(config({ enabled: false }));
    const response = await rails.generate(ask('How do I reach Alice?'), { options: { log: { activatedRails: true } } });
    expect(response.response[0]!.content).toBe(masked);
    expect(response.log?.activatedRails).toEqual([
      expect.objectContaining({ type: 'output', name: 'mask sensitive data on output', decisions: ['allowed: masked sensitive data: EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD'] }),
    ]);
  });

  it('should be a ConfigError naming rails.output.streaming.stream_first when streaming with stream_first: True', () => {
    for (const streaming of [{ enabled: true, stream_first: true }, { enabled: true }]) {
      let error: unknown;
      try {
        config(streaming);
      } catch (thrown) {
        error = thrown;
      }
      expect(ConfigError.isInstance(error)).toBe(true);
      expect((error as ConfigError).issues).toEqual([
        expect.objectContaining({
          key: 'rails.output.streaming.stream_first',
          message:
            "flow 'mask sensitive data on output' rewrites the answer, which stream_first: True cannot do (tokens go out as they arrive): set rails.output.streaming.stream_first to False",
        }),
      ]);
    }
  });

  it('should need its entity types under sensitive_data_detection.output', () => {
    expect(() =>
      RailsConfig.fromContent({ models: [{ type: 'main', engine: 'scripted', parameters: { responses: ['x'] } }], rails: { output: { flows: ['mask sensitive data on output'] }, config: { sensitive_data_detection: { input: { entities: ['EMAIL_ADDRESS'] } } } } }),
    ).toThrow("flow 'mask sensitive data on output' needs the entity types to look for under rails.config.sensitive_data_detection.output.entities (EMAIL_ADDRESS, CREDIT_CARD, ...)");
  });

  it('should be refused by guard with streamFirst: true when the pipeline is built, naming the option (it declares rewrites)', () => {
    const masking = maskSensitiveDataRail({ entities: ['EMAIL_ADDRESS'] });
    expect(masking.rewrites).toBe(true);
    expect(() => guard([masking], { chunkSize: 4, contextSize: 2 })).toThrow(InvalidOptionError);
    expect(() => guard([masking], { chunkSize: 4, contextSize: 2 })).toThrow(
      "guard: rail 'mask sensitive data' rewrites what is released, which needs streamFirst: false (with streamFirst: true items go out as they arrive, before a window could be rewritten)",
    );
  });

  it('should fail closed with streamFirst: true when a rail rewrites without declaring it', async () => {
    const { check } = maskSensitiveDataRail({ entities: ['EMAIL_ADDRESS'] });
    const undeclared = defineRail('undeclared masking', check);
    const outcome = await collect(scriptedModel([answer]).stream(ask('?')).pipe(guard([undeclared], { chunkSize: 4, contextSize: 2 })));
    expect(RailViolationError.isInstance(outcome.error)).toBe(true);
    expect((outcome.error as RailViolationError).info.verdict.kind).toBe('internal_error');
  });

  it('should refuse a custom rewriting rail in a config with stream_first: True, at the key', () => {
    const config = RailsConfig.fromContent(
      {
        models: [{ type: 'main', engine: 'scripted', parameters: { responses: ['x'] } }],
        rails: { output: { flows: ['my masking'], streaming: { enabled: true, stream_first: true } } },
      },
      { file: 'config.yml' },
    );
    const error = configErrorOf(() => new LLMRails(config, { rails: { 'my masking': maskSensitiveDataRail({ entities: ['EMAIL_ADDRESS'] }) } }));
    expect(error.issues).toEqual([
      expect.objectContaining({
        key: 'rails.output.streaming.stream_first',
        message: "rail 'my masking' rewrites the answer, which stream_first: True cannot do (tokens go out as they arrive): set rails.output.streaming.stream_first to False",
      }),
    ]);
  });
});
