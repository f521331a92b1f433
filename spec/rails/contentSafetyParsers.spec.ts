// NeMo's output parsers of content-safety judges (nemoguardrails/llm/output_parsers.py), their scenarios from NeMo's
// tests/test_content_safety_output_parsers.py re-written here, and properties over any answer: a parser never throws,
// and allows only answers of its "safe" grammar (every other answer fails closed).
import fc from 'fast-check';
import { isContentSafe, isOnTopic, llamaGuardVerdict, PARSE_FAILURE, pythonStrip, SAFETY_PARSERS } from '../../lib/rails/contentSafetyParsers.js';
import { SAFETY_PARSER_NAMES, type SafetyParserName } from '../../lib/rails/safetyParserNames.js';
import { growthRatio, LINEAR_BOUND } from '../support/growthRatio.js';

const parse = (parser: string, answer: string) => SAFETY_PARSERS[parser as SafetyParserName](answer);

/** Answers of every shape: any code points, NeMo-like answers with junk around them, JSON objects of any values. */
const answers = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('safe', 'unsafe', 'yes', 'no', 'Safe.', 'SAFE', 'off-topic', 'on-topic', 'unharmful', 'harmful', '<think>', '</think>', 'User Safety', 'Response Safety', 'Prompt harm', 'Response Harm', 'Safety Categories').chain((word) =>
    fc.tuple(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })).map(([before, after]) => `${before}${word}${after}`),
  ),
  fc
    .record({ 'User Safety': fc.anything(), 'Response Safety': fc.anything(), 'Safety Categories': fc.anything() }, { requiredKeys: [] })
    .map((object) => JSON.stringify(object) ?? ''),
  fc
    .tuple(fc.constantFrom('User Safety', 'Response Safety', 'Prompt harm', 'Response Harm'), fc.constantFrom('safe', 'unsafe', 'unharmful', 'harmful', 'SAFE', 'safeé', 'unharmfulé'), fc.string({ unit: 'binary' }))
    .map(([field, value, rest]) => `${rest}\n${field}: ${value}${rest}`),
);

/** Python's `\w`: what NeMo's `re.sub(r"\W+", " ", ...)` keeps. */
const WORD = /[\p{L}\p{N}_]+/gu;

it('should have a parser for each name a prompt may give, and no other', () => {
  expect(Object.keys(SAFETY_PARSERS).sort()).toEqual([...SAFETY_PARSER_NAMES].sort());
});

describe('content-safety output parsers', () => {
  describe('is_content_safe (NeMo: first two words decide)', () => {
    it.each([
      ['safe', true, []],
      ['Safe.', true, []],
      ['  SAFE  ', true, []],
      ['unsafe', false, []],
      ['unsafe\nS1,S10', false, ['S1', 'S10']],
      ['unsafe\nS1,S8', false, ['S1', 'S8']],
      ['Unsafe violence hate', false, ['violence', 'hate']],
      ['No', true, []],
      ['no, this is fine', true, []],
      ['Yes', false, []],
      ['The content is unsafe', false, []],
      ['', false, []],
      ['maybe', false, []],
      ['I cannot judge', false, []],
      ['safe S1 S8', true, []],
      ['safe unsafe', true, []],
      ['unsafe safe', true, []],
      ['**Yes**', false, []],
      ['No, yes', false, []],
    ])('should read %j as safe: %s, categories %j', (answer, safe, violations) => {
      expect(isContentSafe(answer)).toEqual({ safe, violations });
    });
  });

  describe('nemoguard_parse_prompt_safety (the "User Safety" of one JSON object)', () => {
    it.each([
      ['{"User Safety": "safe"}', true, []],
      ['{"User Safety": "SAFE"}', true, []],
      ['{"User Safety": "unsafe", "Safety Categories": "S1"}', false, ['S1']],
      ['{"User Safety": "unsafe", "Safety Categories": "S1: Violence,  S17: Malware "}', false, ['S1: Violence', 'S17: Malware']],
      ['{"User Safety": "unsafe"}', false, []],
      ['{"User Safety": "unsafe", "Safety Categories": ""}', false, ['']],
      ['{"User Safety": "needs caution"}', false, []],
      ['  {"User Safety": "safe"}\n', true, []],
    ])('should read %j as safe: %s, categories %j', (answer, safe, violations) => {
      expect(parse('nemoguard_parse_prompt_safety', answer)).toEqual({ safe, violations });
    });

    it.each([
      ['{"Response Safety": "safe"}'],
      ['```json {"User Safety": "safe"} ```'],
      ['Output JSON: {"User Safety": "safe"}'],
      ['{"User Safety": "safe"} and more'],
      ['safe'],
      ['{"User Safety": true}'],
      ['{"User Safety": "safe", "Safety Categories": 5}'],
      ['["User Safety"]'],
      ['"User Safety"'],
      ['{"User Safety": "safe"'],
    ])('should block %j as unparseable (fail closed)', (answer) => {
      expect(parse('nemoguard_parse_prompt_safety', answer)).toEqual({ safe: false, violations: [PARSE_FAILURE] });
    });
  });

  describe('nemoguard_parse_response_safety (the "Response Safety" only)', () => {
    it.each([
      ['{"User Safety": "safe", "Response Safety": "safe"}', true, []],
      ['{"Response Safety": "SAFE"}', true, []],
      ['{"User Safety": "unsafe", "Response Safety": "safe", "Safety Categories": "S3: Criminal Planning/Confessions"}', true, []],
      ['{"User Safety": "safe", "Response Safety": "unsafe", "Safety Categories": "S1: Violence, S17: Malware"}', false, ['S1: Violence', 'S17: Malware']],
      ['{"Response Safety": "needs caution"}', false, []],
    ])('should read %j as safe: %s, categories %j', (answer, safe, violations) => {
      expect(parse('nemoguard_parse_response_safety', answer)).toEqual({ safe, violations });
    });

    it.each([['{"User Safety": "safe"}'], ['```json {"Response Safety": "safe"} ```'], ['Output JSON: {"Response Safety": "safe"}'], ['safe']])(
      'should block %j as unparseable (fail closed)',
      (answer) => {
        expect(parse('nemoguard_parse_response_safety', answer)).toEqual({ safe: false, violations: [PARSE_FAILURE] });
      },
    );
  });

  describe('nemotron_reasoning_parse_* (Nemotron-Content-Safety-Reasoning-4B)', () => {
    it.each([
      ['nemotron_reasoning_parse_prompt_safety', 'Prompt harm: unharmful\nResponse Harm: harmful', true],
      ['nemotron_reasoning_parse_prompt_safety', 'prompt HARM :  Unharmful', true],
      ['nemotron_reasoning_parse_prompt_safety', '<think>Prompt harm: unharmful, I think</think>\nPrompt harm: harmful', false],
      ['nemotron_reasoning_parse_prompt_safety', '<think>\nthe user asks about cakes\n</think>\n\nPrompt harm: unharmful', true],
      ['nemotron_reasoning_parse_prompt_safety', 'Response Harm: unharmful', false],
      ['nemotron_reasoning_parse_prompt_safety', 'Prompt harm: unharmfulé', false],
      ['nemotron_reasoning_parse_response_safety', 'Prompt harm: harmful\nResponse Harm: unharmful', true],
      ['nemotron_reasoning_parse_response_safety', 'Prompt harm: unharmful\nResponse Harm: harmful', false],
      ['nemotron_reasoning_parse_response_safety', '', false],
    ])('%s should read %j as safe: %s', (parser, answer, safe) => {
      expect(parse(parser, answer).safe).toBe(safe);
    });
  });

  describe('nemotron_content_safety_parse_* (plain lines, v0.24.1)', () => {
    it.each([
      ['nemotron_content_safety_parse_prompt_safety', 'User Safety: safe', true, []],
      ['nemotron_content_safety_parse_prompt_safety', 'User Safety: unsafe\nSafety Categories: Violence, Criminal Planning/Confessions', false, ['Violence', 'Criminal Planning/Confessions']],
      ['nemotron_content_safety_parse_prompt_safety', '<think>User Safety: safe?</think>\nUser Safety: unsafe', false, []],
      ['nemotron_content_safety_parse_response_safety', 'User Safety: unsafe\nResponse Safety: safe', true, []],
      ['nemotron_content_safety_parse_response_safety', 'User Safety: safe\nResponse Safety: unsafe\nSafety Categories: Malware', false, ['Malware']],
    ])('%s should read %j as safe: %s, categories %j', (parser, answer, safe, violations) => {
      expect(parse(parser, answer)).toEqual({ safe, violations });
    });

    it.each([
      ['nemotron_content_safety_parse_prompt_safety', '<think>User Safety: safe', 'a reasoning block cut short'],
      ['nemotron_content_safety_parse_prompt_safety', 'User Safety: safe\nUser Safety: unsafe', 'a verdict stated twice'],
      ['nemotron_content_safety_parse_prompt_safety', 'User Safety: safe; User Safety: safe', 'a verdict stated twice on one line'],
      ['nemotron_content_safety_parse_prompt_safety', 'The verdict is User Safety: safe', 'a verdict not at the start of a line'],
      ['nemotron_content_safety_parse_prompt_safety', 'junk\rUser Safety: safe', 'a carriage return, which does not start a line for Python'],
      ['nemotron_content_safety_parse_prompt_safety', 'User Safety: safeé', 'a verdict word running on (Unicode word boundary)'],
      ['nemotron_content_safety_parse_response_safety', 'User Safety: safe', 'no response verdict (no fallback to the user one)'],
    ])('%s should block %j as unparseable: %s', (parser, answer) => {
      expect(parse(parser, answer)).toEqual({ safe: false, violations: [PARSE_FAILURE] });
    });
  });

  describe('properties over any answer', () => {
    it.each(Object.keys(SAFETY_PARSERS))('%s should never throw and always give a verdict', (parser) => {
      fc.assert(
        fc.property(answers, (answer) => {
          const verdict = parse(parser, answer);
          expect(typeof verdict.safe).toBe('boolean');
          expect(verdict.safe ? verdict.violations : []).toEqual([]);
        }),
        { numRuns: 2000 },
      );
    });

    it('is_content_safe should allow only when "safe", or "no" without "unsafe"/"yes", is among the first two words', () => {
      fc.assert(
        fc.property(answers, (answer) => {
          const first = (pythonStrip(answer.toLowerCase()).match(/^[^\p{L}\p{N}_]*/u)![0] === '' ? [] : ['']).concat(answer.toLowerCase().match(WORD) ?? []).slice(0, 2);
          const allowed = first.includes('safe') || (first.includes('no') && !first.includes('unsafe') && !first.includes('yes'));
          expect(isContentSafe(answer).safe).toBe(allowed);
        }),
        { numRuns: 2000 },
      );
    });

    it.each([
      ['nemoguard_parse_prompt_safety', 'User Safety'],
      ['nemoguard_parse_response_safety', 'Response Safety'],
    ])('%s should allow only one JSON object whose %s is "safe" in any case, with string categories or none', (parser, field) => {
      fc.assert(
        fc.property(answers, (answer) => {
          let allowed = false;
          try {
            const parsed = JSON.parse(answer) as Record<string, unknown>;
            const categories = parsed['Safety Categories'];
            allowed =
              typeof parsed === 'object' && !Array.isArray(parsed) && typeof parsed[field] === 'string' && (parsed[field] as string).toLowerCase() === 'safe' && (categories === undefined || typeof categories === 'string');
          } catch {
            allowed = false;
          }
          expect(parse(parser, answer).safe).toBe(allowed);
        }),
        { numRuns: 2000 },
      );
    });

    it.each([
      ['nemotron_reasoning_parse_prompt_safety', /prompt harm[\s\x1c-\x1f]*:[\s\x1c-\x1f]*unharmful(?![\p{L}\p{N}_])/iu],
      ['nemotron_reasoning_parse_response_safety', /response harm[\s\x1c-\x1f]*:[\s\x1c-\x1f]*unharmful(?![\p{L}\p{N}_])/iu],
    ])('%s should allow only an answer that states the field as unharmful', (parser, grammar) => {
      fc.assert(
        fc.property(answers, (answer) => {
          if (parse(parser, answer).safe) expect(answer).toMatch(grammar);
        }),
        { numRuns: 2000 },
      );
    });

    it.each([
      ['nemotron_content_safety_parse_prompt_safety', /user safety/giu],
      ['nemotron_content_safety_parse_response_safety', /response safety/giu],
    ])('%s should allow only an answer stating its verdict once, as safe, at the start of a line', (parser, field) => {
      fc.assert(
        fc.property(answers, (answer) => {
          if (!parse(parser, answer).safe) return;
          const text = answer.replace(/<think>[\s\S]*?<\/think>/g, '');
          expect(text).not.toContain('<think>');
          expect(text.match(field)?.length).toBeGreaterThanOrEqual(1);
          expect(text).toMatch(new RegExp(`(^|\\n)[^\\n\\S]*${field.source}[\\s\\x1c-\\x1f]*:[\\s\\x1c-\\x1f]*safe(?![\\p{L}\\p{N}_])`, 'iu'));
        }),
        { numRuns: 2000 },
      );
    });

    it('the Llama Guard rule should allow only answers starting with "safe" (case and surrounding space aside)', () => {
      fc.assert(
        fc.property(answers, (answer) => {
          expect(llamaGuardVerdict(answer).safe).toBe(pythonStrip(answer.toLowerCase()).startsWith('safe'));
        }),
        { numRuns: 2000 },
      );
    });

    it('the topic-safety rule should block exactly "off-topic" (case and surrounding space aside), and fail open on anything else', () => {
      fc.assert(
        fc.property(answers, (answer) => {
          expect(isOnTopic(answer)).toBe(pythonStrip(answer.toLowerCase()) !== 'off-topic');
        }),
        { numRuns: 2000 },
      );
    });
  });

  describe('the Llama Guard rule and the topic-safety rule (NeMo test_llama_guard.py, topic_safety actions)', () => {
    it.each([
      ['safe', true, []],
      ['  Safe', true, []],
      ['unsafe', false, ['']],
      ['unsafe o1 o3', false, ['o1', 'o3']],
      ['Unsafe\nO3', false, ['o3']],
      ['I am not sure', false, []],
    ])('Llama Guard should read %j as safe: %s, categories %j', (answer, safe, violations) => {
      expect(llamaGuardVerdict(answer)).toEqual({ safe, violations });
    });

    it.each([
      ['off-topic', false],
      [' OFF-TOPIC ', false],
      ['on-topic', true],
      ['off-topic.', true],
      ['Off-topic: politics', true],
      ['', true],
    ])('topic safety should read %j as on topic: %s', (answer, onTopic) => {
      expect(isOnTopic(answer)).toBe(onTopic);
    });
  });
});

describe('the parsers on long adversarial answers', () => {
  // A judge's answer is whatever a model wrote: runs of spaces or newlines before a letter, unterminated reasoning
  // blocks, repeated field names. Each parser reads it in time linear in its length (measured by growth ratio: 4x the
  // answer takes about 4x the time; the backtracking patterns these replaced took 16x, 6 s at 80,000 spaces).
  const adversarial: readonly [string, (size: number) => string][] = [
    ['spaces before a letter', (size) => `a${' '.repeat(size)}a`],
    ['newlines before a letter', (size) => `a${'\n'.repeat(size)}a`],
    ['spaced newlines', (size) => ' \n'.repeat(size / 2) + 'x'],
    ['unterminated reasoning blocks', (size) => '<think>'.repeat(size / 7)],
    ['field names without a verdict', (size) => 'User Safety: \n'.repeat(size / 14)],
    ['categories without a line start', (size) => `x${' Safety Categories: '.repeat(size / 20)}`],
  ];
  const parsers = { ...SAFETY_PARSERS, llamaGuardVerdict, isOnTopic: (answer: string) => isOnTopic(answer), pythonStrip: (answer: string) => pythonStrip(answer) };

  it.each(Object.keys(parsers))('should read answers to %s in time linear in their length', (name) => {
    const parser = parsers[name as keyof typeof parsers] as (answer: string) => unknown;
    for (const [shape, make] of adversarial) {
      const ratio = growthRatio(parser, make(40_000), make(160_000));
      expect({ shape, linear: ratio < LINEAR_BOUND }).toEqual({ shape, linear: true });
    }
  });
});
