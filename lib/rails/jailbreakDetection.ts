import type { OutputRail, RailDecision } from '../core/types.js';
import { InvalidOptionError } from '../errors/InvalidOptionError.js';
import { recordServiceCall } from '../internal/callRecords.js';
import { postJson } from '../internal/postJson.js';
import { assertHttpUrl, assertKnownKeys, assertRailName, assertTimeoutMs, describeValue } from '../internal/validateOptions.js';
import { defineRail } from './defineRail.js';

/** How long a jailbreak service may take to answer unless told otherwise: NeMo's 30 s. */
const DEFAULT_TIMEOUT_MS = 30_000;
/** NeMo's `nim_server_endpoint` default. */
const DEFAULT_NIM_ENDPOINT = 'classify';
/** NeMo's heuristics thresholds (`length_per_perplexity_threshold`, `prefix_suffix_perplexity_threshold`). */
const DEFAULT_LENGTH_PER_PERPLEXITY = 89.79;
const DEFAULT_PREFIX_SUFFIX_PERPLEXITY = 1845.65;

/** Options of {@link jailbreakDetectionModel}: a NemoGuard JailbreakDetect NIM, or NeMo's jailbreak container. */
export interface JailbreakDetectionModelOptions {
  /**
   * The NIM's base URL (`https://ai.api.nvidia.com`, `http://localhost:8000/v1`): the classifier is called at this
   * URL joined with `nimServerEndpoint`, with `{"input": <text>}`.
   */
  readonly nimBaseUrl?: string;
  /**
   * The classifier's path under `nimBaseUrl` (`/v1/security/nvidia/nemoguard-jailbreak-detect`).
   * @default 'classify'
   */
  readonly nimServerEndpoint?: string;
  /**
   * NeMo's jailbreak detection container (`http://host:1337/model`), called with `{"prompt": <text>}`; used only
   * without `nimBaseUrl`.
   */
  readonly serverEndpoint?: string;
  /** Sent as `Authorization: Bearer <apiKey>` (LLMRails takes it from `api_key`, else `api_key_env_var`). */
  readonly apiKey?: string;
  /**
   * The rail's name in verdicts and error payloads.
   * @default 'jailbreak detection model'
   */
  readonly name?: string;
  /**
   * How long the service may take to answer, in ms; past it the request is aborted and the check fails (an
   * `internal_error` verdict, blocked unless `onError: 'allow'`). `Infinity` waits for ever.
   * @default 30000
   */
  readonly timeoutMs?: number;
}

/**
 * A rail asking a jailbreak classifier whether the text (the user's message, as an input rail) is a jailbreak
 * attempt, as NeMo's `jailbreak detection model`.
 *
 * With `nimBaseUrl` it POSTs `{"input": text}` to the NemoGuard JailbreakDetect NIM at `nimBaseUrl` joined with
 * `nimServerEndpoint` (the base gets one trailing `/`, the endpoint loses its leading `/`, as NeMo joins them); with
 * `serverEndpoint` instead, `{"prompt": text}` to NeMo's jailbreak detection container. Either answers JSON with a
 * boolean `jailbreak` (a `score`, when sent, is reported in the verdict's details; NeMo has no threshold). `true`
 * blocks. Unlike NeMo, which lets the message through when the service fails, every failure fails the check: an
 * HTTP error, a timeout, a body that is not JSON or has no boolean `jailbreak`. The checks' `onError` then decides
 * (fail closed by default). The request is aborted with the check's signal.
 *
 * ## Example
 * ```ts
 * import { checkRail, jailbreakDetectionModel } from 'rxguardrails';
 *
 * const rail = jailbreakDetectionModel({
 *   nimBaseUrl: 'https://ai.api.nvidia.com',
 *   nimServerEndpoint: '/v1/security/nvidia/nemoguard-jailbreak-detect',
 *   apiKey: process.env.NVIDIA_API_KEY,
 * });
 * batches$.pipe(checkRail([rail]));
 * ```
 *
 * @param options `nimBaseUrl` + `nimServerEndpoint` (default 'classify'), or `serverEndpoint`; `apiKey`, `name`
 *   (default 'jailbreak detection model'), `timeoutMs` (default 30000).
 * @throws InvalidOptionError without either endpoint, or for a URL that does not parse.
 */
export function jailbreakDetectionModel(options: JailbreakDetectionModelOptions): OutputRail {
  const owner = 'jailbreakDetectionModel';
  assertKnownKeys(owner, options, ['nimBaseUrl', 'nimServerEndpoint', 'serverEndpoint', 'apiKey', 'name', 'timeoutMs']);
  const { nimBaseUrl, nimServerEndpoint = DEFAULT_NIM_ENDPOINT, serverEndpoint, apiKey, name = 'jailbreak detection model', timeoutMs = DEFAULT_TIMEOUT_MS } = options;
  assertRailName(owner, 'name', name);
  assertTimeout(owner, timeoutMs);
  if (apiKey !== undefined && typeof apiKey !== 'string') throw new InvalidOptionError('apiKey', apiKey, `${owner}: apiKey must be a string, got ${describeValue(apiKey)}`);
  let url: string;
  let field: 'input' | 'prompt';
  if (nimBaseUrl !== undefined) {
    assertNonEmpty(owner, 'nimServerEndpoint', nimServerEndpoint);
    url = joinUrl(owner, assertUrl(owner, 'nimBaseUrl', nimBaseUrl), nimServerEndpoint);
    field = 'input';
  } else if (serverEndpoint !== undefined) {
    url = assertUrl(owner, 'serverEndpoint', serverEndpoint);
    field = 'prompt';
  } else {
    throw new InvalidOptionError(
      'nimBaseUrl',
      nimBaseUrl,
      `${owner}: needs a classifier: nimBaseUrl (a NemoGuard JailbreakDetect NIM) or serverEndpoint (NeMo's jailbreak detection container); rxguardrails has no in-process classifier`,
    );
  }
  const headers: Record<string, string> = apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
  const service = `the jailbreak classifier at ${url}`;
  // Recorded for explain() as newer NeMo records it: task jailbreak_detection_model, its duration, no tokens.
  const description = { task: 'jailbreak_detection_model', provider: nimBaseUrl === undefined ? 'jailbreak_detection_server' : 'nim', model: url };
  return defineRail(name, async (text, { signal, usage }): Promise<RailDecision> => {
    const answer = await recordServiceCall(usage, description, signal, () => postJson(url, { [field]: text }, { service, headers, signal, timeoutMs }));
    return verdictOf(answer, service);
  });
}

/** Options of {@link jailbreakDetectionHeuristics}: NeMo's jailbreak detection server and its thresholds. */
export interface JailbreakDetectionHeuristicsOptions {
  /** NeMo's jailbreak detection server's heuristics endpoint (`http://host:1337/heuristics`), which computes GPT-2 perplexity. */
  readonly serverEndpoint: string;
  /**
   * Length divided by perplexity at or above which a prompt is a jailbreak (`lp_threshold`).
   * @default 89.79
   */
  readonly lengthPerPerplexityThreshold?: number;
  /**
   * Perplexity of a prompt's first or last words at or above which it is a jailbreak (`ps_ppl_threshold`).
   * @default 1845.65
   */
  readonly prefixSuffixPerplexityThreshold?: number;
  /**
   * The rail's name in verdicts and error payloads.
   * @default 'jailbreak detection heuristics'
   */
  readonly name?: string;
  /**
   * How long the server may take to answer, in ms; past it the check fails. `Infinity` waits for ever.
   * @default 30000
   */
  readonly timeoutMs?: number;
}

/**
 * A rail asking NeMo's jailbreak detection server for its perplexity heuristics, as NeMo's
 * `jailbreak detection heuristics`: POSTs `{"prompt", "lp_threshold", "ps_ppl_threshold"}` to `serverEndpoint`
 * and blocks when the answer's `jailbreak` is `true`. The heuristics need GPT-2 large, so they run in that server,
 * never in-process. Failures (HTTP errors, a timeout, a body without a boolean `jailbreak`) fail the check, which
 * NeMo lets pass; the checks' `onError` decides (fail closed by default).
 *
 * ## Example
 * ```ts
 * import { checkRail, jailbreakDetectionHeuristics } from 'rxguardrails';
 *
 * const rail = jailbreakDetectionHeuristics({ serverEndpoint: 'http://localhost:1337/heuristics' });
 * batches$.pipe(checkRail([rail]));
 * ```
 *
 * @param options `serverEndpoint` (required), `lengthPerPerplexityThreshold` (default 89.79),
 *   `prefixSuffixPerplexityThreshold` (default 1845.65), `name`, `timeoutMs` (default 30000).
 * @throws InvalidOptionError without a serverEndpoint, or for a threshold that is not a positive number.
 */
export function jailbreakDetectionHeuristics(options: JailbreakDetectionHeuristicsOptions): OutputRail {
  const owner = 'jailbreakDetectionHeuristics';
  assertKnownKeys(owner, options, ['serverEndpoint', 'lengthPerPerplexityThreshold', 'prefixSuffixPerplexityThreshold', 'name', 'timeoutMs']);
  const {
    serverEndpoint,
    lengthPerPerplexityThreshold = DEFAULT_LENGTH_PER_PERPLEXITY,
    prefixSuffixPerplexityThreshold = DEFAULT_PREFIX_SUFFIX_PERPLEXITY,
    name = 'jailbreak detection heuristics',
    timeoutMs = DEFAULT_TIMEOUT_MS,
  } = options;
  assertRailName(owner, 'name', name);
  assertTimeout(owner, timeoutMs);
  if (serverEndpoint === undefined) {
    throw new InvalidOptionError(
      'serverEndpoint',
      serverEndpoint,
      `${owner}: needs serverEndpoint, a perplexity service (NeMo's jailbreak detection server, /heuristics): the heuristics need GPT-2 large, which rxguardrails does not run in-process`,
    );
  }
  const url = assertUrl(owner, 'serverEndpoint', serverEndpoint);
  for (const [option, value] of [
    ['lengthPerPerplexityThreshold', lengthPerPerplexityThreshold],
    ['prefixSuffixPerplexityThreshold', prefixSuffixPerplexityThreshold],
  ] as const) {
    if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
      throw new InvalidOptionError(option, value, `${owner}: ${option} must be a positive number, got ${describeValue(value)}`);
    }
  }
  const service = `the jailbreak heuristics server at ${url}`;
  return defineRail(name, async (text, { signal }): Promise<RailDecision> => {
    const body = { prompt: text, lp_threshold: lengthPerPerplexityThreshold, ps_ppl_threshold: prefixSuffixPerplexityThreshold };
    return verdictOf(await postJson(url, body, { service, signal, timeoutMs }), service);
  });
}

/** The service's answer as a decision; an answer without a boolean `jailbreak` is a failure, not a pass. */
function verdictOf(answer: unknown, service: string): RailDecision {
  const jailbreak = answer !== null && typeof answer === 'object' && !Array.isArray(answer) ? (answer as { jailbreak?: unknown }).jailbreak : undefined;
  if (typeof jailbreak !== 'boolean') {
    throw new Error(`${service} answered without a boolean "jailbreak": ${JSON.stringify(answer)?.slice(0, 80) ?? String(answer)}`);
  }
  const score = (answer as { score?: unknown }).score;
  const details = typeof score === 'number' ? { details: { score } } : {};
  return jailbreak ? { allowed: false, reason: 'the classifier detected a jailbreak attempt', ...details } : { allowed: true, ...details };
}

/** NeMo's join: the base with exactly one trailing `/`, the endpoint without its leading `/`, resolved as a URL. */
function joinUrl(owner: string, base: string, endpoint: string): string {
  try {
    return new URL(endpoint.replace(/^\/+/, ''), `${base.replace(/\/+$/, '')}/`).href;
  } catch {
    throw new InvalidOptionError('nimServerEndpoint', endpoint, `${owner}: nimServerEndpoint ${JSON.stringify(endpoint)} does not make a URL with nimBaseUrl ${JSON.stringify(base)}`);
  }
}

function assertUrl(owner: string, option: string, value: unknown): string {
  assertNonEmpty(owner, option, value);
  assertHttpUrl(owner, option, value);
  return value;
}

function assertNonEmpty(owner: string, option: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidOptionError(option, value, `${owner}: ${option} must be a non-empty string, got ${describeValue(value)}`);
  }
}

function assertTimeout(owner: string, timeoutMs: unknown): void {
  assertTimeoutMs(owner, timeoutMs);
}
