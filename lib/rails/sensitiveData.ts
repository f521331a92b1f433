import type { OutputRail, RailDecision } from '../core/types.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { postJson } from '../internal/postJson.js';
import { builtInRecognizers, customRecognizer, type EntityFinding, PATTERN_ENTITIES, type Recognizer, recognize } from '../internal/piiRecognizers.js';
import { assertHttpUrl, assertKnownKeys, assertRailName, assertTimeoutMs, describeValue } from '../internal/validateOptions.js';
import { defineRail } from './defineRail.js';
import { MASKED_TEXT } from './maskedText.js';

/** How long a Presidio analyzer may take to answer unless told otherwise. */
const DEFAULT_TIMEOUT_MS = 30_000;

/** A Presidio "no-code" recognizer: a deny list, or patterns with their scores, for an entity type of your own. */
export interface SensitiveDataRecognizer {
  /** The entity type it reports (`TITLE`); list it in `entities` to use it. */
  readonly supportedEntity: string;
  /** Words or phrases, matched as whole words, case-insensitively. */
  readonly denyList?: readonly string[];
  /**
   * The score of a deny-list match.
   * @default 1
   */
  readonly denyListScore?: number;
  /** Regular expressions (case-insensitive, `.` matching newlines, `^`/`$` at lines), each with its score. */
  readonly patterns?: readonly { readonly regex: string; readonly score: number; readonly name?: string }[];
  /** Words that, among the five before a match, raise its score (Presidio's context enhancement). */
  readonly context?: readonly string[];
}

/** Options of {@link detectSensitiveData} and {@link maskSensitiveData}. */
export interface SensitiveDataOptions {
  /**
   * Presidio's entity types to look for. Found without a language model: `EMAIL_ADDRESS`, `PHONE_NUMBER`,
   * `CREDIT_CARD`, `IBAN_CODE`, `IP_ADDRESS`, `US_SSN`, `US_ITIN`, `UK_NHS`, `URL`, and those of `recognizers`;
   * any other (`PERSON`, `LOCATION`, `DATE_TIME`, ...) is asked of the analyzer at `analyzerEndpoint`.
   */
  readonly entities: readonly string[];
  /**
   * The score from which a finding counts (NeMo's `score_threshold`), from 0 to 1.
   * @default 0.2
   */
  readonly scoreThreshold?: number;
  /** Recognizers of your own (NeMo's `recognizers`). */
  readonly recognizers?: readonly SensitiveDataRecognizer[];
  /**
   * A Presidio analyzer's `/analyze` URL (`http://localhost:5002/analyze`), for the entities that need a
   * named-entity model. Required when `entities` lists one.
   */
  readonly analyzerEndpoint?: string;
  /**
   * The language sent to the analyzer.
   * @default 'en'
   */
  readonly language?: string;
  /**
   * The rail's name in verdicts and error payloads.
   * @default 'detect sensitive data'
   */
  readonly name?: string;
  /**
   * How long the analyzer may take to answer, in ms; past it the check fails. `Infinity` waits for ever.
   * @default 30000
   */
  readonly timeoutMs?: number;
}

const OPTION_KEYS = ['entities', 'scoreThreshold', 'recognizers', 'analyzerEndpoint', 'language', 'name', 'timeoutMs'];

/**
 * A rail that blocks text containing sensitive data, as NeMo's `detect sensitive data on input` / `on output`.
 *
 * Pattern entities are found here, by rxguardrails' own recognizers with Presidio's names, scores and validations:
 * a card number only with a valid Luhn digit, an IBAN only with its country's length and checksum, an IP address
 * only when its parts are in range, US SSNs not when the SSA never issues them, weak patterns (a bare nine-digit
 * SSN) only with a context word before them ("ssn"). Entities that need a named-entity model (`PERSON`,
 * `LOCATION`, ...) are asked of a Presidio analyzer (`analyzerEndpoint`, Presidio's REST API: `POST /analyze`).
 * Any finding scoring at least `scoreThreshold` blocks. The verdict names the entity types and their offsets in
 * `details.entities`, never the sensitive text itself (verdicts end up in logs). Without an analyzer the rail is
 * synchronous; with one, an analyzer that fails (HTTP error, timeout, malformed answer) fails the check.
 *
 * ## Example
 * ```ts
 * import { detectSensitiveData, guard } from 'rxguardrails';
 *
 * const rail = detectSensitiveData({ entities: ['EMAIL_ADDRESS', 'CREDIT_CARD'] });
 * tokens$.pipe(guard([rail], { streamFirst: false }));
 * ```
 *
 * @param options `entities` (required), `scoreThreshold` (default 0.2), `recognizers`, `analyzerEndpoint`,
 *   `language` (default 'en'), `name` (default 'detect sensitive data'), `timeoutMs` (default 30000).
 * @throws InvalidOptionError for an entity that needs a named-entity model without an analyzer, a threshold
 *   outside [0, 1], a recognizer pattern the linear-time engine cannot run.
 */
export function detectSensitiveData(options: SensitiveDataOptions): OutputRail {
  const { name = 'detect sensitive data' } = options;
  const analyze = analyzer('detectSensitiveData', options);
  assertRailName('detectSensitiveData', 'name', name);
  const decide = (findings: readonly EntityFinding[]): RailDecision | true => {
    if (findings.length === 0) return true;
    const types = [...new Set(findings.map((finding) => finding.entity))];
    return { allowed: false, reason: `found sensitive data: ${types.join(', ')}`, details: { entities: findings } };
  };
  return findingsRail(name, analyze, decide, false);
}

/**
 * Masks sensitive data as NeMo's `mask sensitive data on input`: each entity found (as {@link detectSensitiveData}
 * finds them) is replaced by `<ENTITY_TYPE>`, as Presidio's anonymizer does
 * (`Card 4111 1111 1111 1111` → `Card <CREDIT_CARD>`). Where findings overlap, the higher score wins (then the
 * longer). Returns the masking function; it answers synchronously without an analyzer, else with a Promise, and
 * takes the signal that aborts the analyzer's request.
 *
 * ## Example
 * ```ts
 * import { maskSensitiveData } from 'rxguardrails';
 *
 * const mask = maskSensitiveData({ entities: ['EMAIL_ADDRESS'] });
 * mask('Write to alice@example.org'); // 'Write to <EMAIL_ADDRESS>'
 * ```
 *
 * @param options As {@link detectSensitiveData}'s (`name` unused).
 * @throws InvalidOptionError as {@link detectSensitiveData}.
 */
export function maskSensitiveData(options: SensitiveDataOptions): (text: string, signal?: AbortSignal) => string | Promise<string> {
  const analyze = analyzer('maskSensitiveData', options);
  return (text, signal) => {
    const findings = analyze(text, signal);
    return Array.isArray(findings) ? masked(text, findings) : findings.then((found) => masked(text, found));
  };
}

/**
 * A rail that masks sensitive data in the answer, as NeMo's `mask sensitive data on output` means to: it never blocks,
 * and answers each entity found (as {@link maskSensitiveData} finds them) as a rewrite to `<ENTITY_TYPE>`
 * (`RailDecision.rewrites`), which `guard` applies where it releases the text. It needs `streamFirst: false`: then no
 * entity of at most `contextSize + 1` items is ever released raw, in part or whole, however the answer is split into
 * tokens, and the released text is the masked whole answer (for entities each window sees as the whole answer does).
 * With `streamFirst: true` the first window it rewrites fails closed (its items were released as they arrived).
 *
 * ```
 * guard([maskSensitiveDataRail({ entities: ['EMAIL_ADDRESS'] })], { chunkSize: 4, contextSize: 2, streamFirst: false })
 * source:    ['Mail ', 'bob', '@example', '.org', ' now']
 * released:  'Mail ', '<EMAIL_ADDRESS>', ' now'          (the items of the address go out as one, masked)
 * ```
 *
 * ## Example
 * ```ts
 * import { guard } from 'rxguardrails';
 * import { maskSensitiveDataRail } from 'rxguardrails/detectors';
 *
 * tokens$.pipe(guard([maskSensitiveDataRail({ entities: ['EMAIL_ADDRESS', 'CREDIT_CARD'] })], { streamFirst: false }));
 * ```
 *
 * @param options As {@link detectSensitiveData}'s; `name` defaults to 'mask sensitive data'.
 * @throws InvalidOptionError as {@link detectSensitiveData}.
 */
export function maskSensitiveDataRail(options: SensitiveDataOptions): OutputRail {
  const { name = 'mask sensitive data' } = options;
  const analyze = analyzer('maskSensitiveDataRail', options);
  assertRailName('maskSensitiveDataRail', 'name', name);
  const decide = (findings: readonly EntityFinding[]): RailDecision | true => {
    // An empty finding (an analyzer's) has nothing to replace.
    const kept = keptFindings(findings.filter((finding) => finding.end > finding.start));
    if (kept.length === 0) return true;
    return {
      allowed: true,
      reason: `masked sensitive data: ${[...new Set(kept.map((finding) => finding.entity))].join(', ')}`,
      rewrites: kept.map((finding) => ({ index: finding.start, length: finding.end - finding.start, text: `<${finding.entity}>` })),
    };
  };
  return findingsRail(name, analyze, decide, true);
}

/** A rail deciding each window from the analyzer's findings; `rewrites`: its decisions may carry rewrites (masking). */
function findingsRail(name: string, analyze: Analyze, decide: (findings: readonly EntityFinding[]) => RailDecision | true, rewrites: boolean): OutputRail {
  return defineRail({
    name,
    check: (text, { signal }) => {
      const findings = analyze(text, signal);
      return Array.isArray(findings) ? decide(findings) : findings.then(decide);
    },
    ...(rewrites ? { rewrites } : {}),
  });
}

/** The findings masking keeps, in order: of overlapping findings, the higher score (then the longer) wins. */
function keptFindings(findings: readonly EntityFinding[]): EntityFinding[] {
  const kept: EntityFinding[] = [];
  const ranked = [...findings].sort((a, b) => b.score - a.score || b.end - b.start - (a.end - a.start) || a.start - b.start);
  // The characters kept findings cover: each finding is checked against its own characters, not against every kept
  // finding (a text of 80,000 addresses took seconds that way). Each pattern's matches do not overlap, so the
  // characters looked at come to a few times the text's length.
  const covered = new Uint8Array(ranked.reduce((end, finding) => Math.max(end, finding.end), 0));
  for (const finding of ranked) {
    let free = true;
    for (let at = finding.start; at < finding.end && free; at++) free = covered[at] === 0;
    if (!free) continue;
    covered.fill(1, finding.start, finding.end);
    kept.push(finding);
  }
  return kept.sort((a, b) => a.start - b.start);
}

/** `text` with the findings replaced by `<ENTITY_TYPE>`; of overlapping findings, the higher score (then the longer) wins. */
function masked(text: string, findings: readonly EntityFinding[]): string {
  let result = '';
  let position = 0;
  for (const finding of keptFindings(findings)) {
    result += `${text.slice(position, finding.start)}<${finding.entity}>`;
    position = finding.end;
  }
  return result + text.slice(position);
}

type Analyze = (text: string, signal?: AbortSignal) => EntityFinding[] | Promise<EntityFinding[]>;

/** Validates the options and makes the function that finds the entities of a text (above the threshold). */
function analyzer(owner: string, options: SensitiveDataOptions): Analyze {
  assertKnownKeys(owner, options, OPTION_KEYS);
  const { entities, scoreThreshold = 0.2, recognizers = [], analyzerEndpoint, language = 'en', timeoutMs = DEFAULT_TIMEOUT_MS } = options;
  if (typeof scoreThreshold !== 'number' || !(scoreThreshold >= 0 && scoreThreshold <= 1)) {
    throw new InvalidOptionError('scoreThreshold', scoreThreshold, `${owner}: scoreThreshold must be a number from 0 to 1, got ${describeValue(scoreThreshold)}`);
  }
  assertTimeoutMs(owner, timeoutMs);
  if (!Array.isArray(entities)) {
    throw new InvalidOptionError('entities', entities, `${owner}: entities must be a list of entity types (EMAIL_ADDRESS, ...), got ${describeValue(entities)}`);
  }
  if (!Array.isArray(recognizers)) {
    throw new InvalidOptionError('recognizers', recognizers, `${owner}: recognizers must be a list, got ${describeValue(recognizers)}`);
  }
  const custom = recognizers.map((recognizer, index) => customOf(owner, recognizer, index));
  const builtIn = builtInRecognizers();
  const local: Recognizer[] = [];
  const remote: string[] = [];
  entities.forEach((entity: unknown, index) => {
    if (typeof entity !== 'string' || entity.trim() === '') {
      throw new InvalidOptionError(`entities[${index}]`, entity, `${owner}: entities[${index}] must be an entity type such as EMAIL_ADDRESS, got ${describeValue(entity)}`);
    }
    const own = custom.filter((recognizer) => recognizer.entity === entity);
    const found = own.length > 0 ? own : builtIn.has(entity) ? [builtIn.get(entity)!] : [];
    if (found.length > 0) local.push(...found);
    else if (!remote.includes(entity)) remote.push(entity);
  });
  if (remote.length > 0 && analyzerEndpoint === undefined) {
    const index = entities.indexOf(remote[0]!);
    throw new InvalidOptionError(
      `entities[${index}]`,
      remote[0],
      `${owner}: entities[${index}] is ${remote[0]}, which needs a named-entity model: set analyzerEndpoint to a Presidio analyzer (POST /analyze), or list only entities rxguardrails recognizes itself: ${PATTERN_ENTITIES.join(', ')} and those of recognizers`,
    );
  }
  let url: string | undefined;
  if (analyzerEndpoint !== undefined) {
    assertHttpUrl(owner, 'analyzerEndpoint', analyzerEndpoint);
    url = analyzerEndpoint;
  }

  const counted = (findings: EntityFinding[]) => findings.filter((finding) => finding.score >= scoreThreshold);
  if (url === undefined || remote.length === 0) return (text) => counted(recognize(text, local));
  const service = `the Presidio analyzer at ${url}`;
  return async (text, signal) => {
    const own = recognize(text, local);
    const answer = await postJson(url, { text, language, entities: remote, score_threshold: scoreThreshold }, { service, signal, timeoutMs });
    return counted([...own, ...analyzerFindings(answer, text, remote, service)]);
  };
}

/** Presidio's RecognizerResult list, its code-point offsets as UTF-16 ones; anything else is a failure. */
function analyzerFindings(answer: unknown, text: string, entities: readonly string[], service: string): EntityFinding[] {
  if (!Array.isArray(answer)) throw new Error(`${service} answered ${describeValue(answer)}, not a list of results`);
  const codePoints = [...text];
  const offsets: number[] = [0];
  for (const character of codePoints) offsets.push(offsets.at(-1)! + character.length);
  return answer.flatMap((result: unknown): EntityFinding[] => {
    const { entity_type: entity, start, end, score } = (result ?? {}) as Record<string, unknown>;
    if (
      typeof entity !== 'string' ||
      typeof score !== 'number' ||
      !Number.isInteger(start) ||
      !Number.isInteger(end) ||
      (start as number) < 0 ||
      (start as number) > (end as number) ||
      (end as number) > codePoints.length
    ) {
      throw new Error(`${service} answered a result without entity_type, start, end and score within the text: ${JSON.stringify(result)?.slice(0, 120)}`);
    }
    // Presidio may report entity types it was not asked for (its own recognizers' by-products): those do not count.
    if (!entities.includes(entity)) return [];
    return [{ entity, start: offsets[start as number]!, end: offsets[end as number]!, score }];
  });
}

function customOf(owner: string, recognizer: SensitiveDataRecognizer, index: number): Recognizer {
  const where = `recognizers[${index}]`;
  if (recognizer === null || typeof recognizer !== 'object') {
    throw new InvalidOptionError(where, recognizer, `${owner}: ${where} must be an object, got ${describeValue(recognizer)}`);
  }
  const { supportedEntity, denyList, patterns = [] } = recognizer;
  if (typeof supportedEntity !== 'string' || supportedEntity.trim() === '') {
    throw new InvalidOptionError(`${where}.supportedEntity`, supportedEntity, `${owner}: ${where}.supportedEntity must be an entity type, got ${describeValue(supportedEntity)}`);
  }
  if ((denyList?.length ?? 0) === 0 && patterns.length === 0) {
    throw new InvalidOptionError(where, recognizer, `${owner}: ${where} needs a deny list or patterns`);
  }
  patterns.forEach(({ regex }, position) => {
    const option = `${where}.patterns[${position}].regex`;
    let problem: string | undefined;
    try {
      customRecognizer({ supportedEntity, patterns: [{ regex, score: 1 }] });
    } catch (error) {
      problem = (error as Error).message;
    }
    if (problem !== undefined) throw new InvalidOptionError(option, regex, `${owner}: ${option} ${problem.replace(/^\/.*\/\w* /, '')}`);
  });
  return customRecognizer(recognizer);
}

/**
 * Internal (LLMRails' `mask sensitive data on input`): a rail that never blocks and whose decision carries the
 * masked text in `details`, so the rail plan runs it with the input rails' timeout, abort and log, then hands the
 * masked message on. A failure (the analyzer's) fails the check like any rail's.
 */
export function inputMaskingRail(name: string, options: SensitiveDataOptions): OutputRail {
  const mask = maskSensitiveData(options);
  const decide = (text: string, result: string): RailDecision => ({
    allowed: true,
    reason: result === text ? 'nothing to mask' : 'masked sensitive data',
    details: { [MASKED_TEXT]: result },
  });
  return defineRail(name, (text, { signal }) => {
    const result = mask(text, signal);
    return typeof result === 'string' ? decide(text, result) : result.then((found) => decide(text, found));
  });
}
