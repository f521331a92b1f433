import type { Observable } from 'rxjs';
import type { ChatModel, Demand, OutputRail, RailCheckInfo, Telemetry, UsageSink } from '../core/types.js';
import type { EngineClients } from './engineModel.js';
import type { GenerationLogOptions } from './GenerationResponse.js';
import type { StreamingHandler } from './StreamingHandler.js';

/** Options of {@link LLMRails}. */
export interface LLMRailsOptions {
  /**
   * Models by type (`main`, `self_check_output`, `self_check_input`), instead of or over the config's entries.
   * A judge without a model of its own uses the main model.
   */
  readonly models?: Readonly<Record<string, ChatModel>>;
  /** SDK clients for the config's `openai` / `anthropic` entries; without one, a client is made from the environment. */
  readonly clients?: EngineClients;
  /** Rails for flow names of your own (or to replace a built-in flow), by flow name. */
  readonly rails?: Readonly<Record<string, OutputRail | OutputRail['check']>>;
  /** Also record every LLM call here: a UsageTracker or any {@link UsageSink} (explain() always covers this instance's calls). */
  readonly usage?: UsageSink;
  /**
   * How an output-rail violation reaches you; overrides `rails.output.streaming.on_violation`.
   * `'error'`: a RailViolationError; `'chunk'`: NeMo's JSON payload as the last item; `'replace'`: the refusal text.
   */
  readonly onViolation?: 'error' | 'chunk' | 'replace';
  /**
   * What an input-rail block gives: NeMo's refusal text as the whole answer, or a RailViolationError.
   * @default 'refuse'
   */
  readonly onInputViolation?: 'refuse' | 'error';
  /**
   * How many of the latest LLM calls `explain()` keeps (`Infinity`: all, memory growing with every call); the
   * totals count every call.
   * @default 1000
   */
  readonly keepCalls?: number;
  /**
   * Report each call (`stream`/`answer` subscription, `generate`) as a request, with its LLM calls and rail checks:
   * `openTelemetry()` from `rxguardrails/otel`, or any {@link Telemetry}. A hook that throws never breaks the answer:
   * the first failure goes to `onTelemetryError`.
   * @default none: nothing is timed or reported
   */
  readonly telemetry?: Telemetry;
  /**
   * Where the first telemetry hook that throws is reported (once per LLMRails: a hook failing on every window would
   * flood a log), e.g. your logger. What it throws is dropped.
   * @default one line on console.error
   */
  readonly onTelemetryError?: (error: unknown) => void;
}

/** Options of {@link LLMRails.stream}, {@link LLMRails.streamAsync} and {@link LLMRails.answer}. */
export interface StreamOptions {
  /**
   * Tokens from elsewhere (an external generator): input rails and the model are skipped, the output rails
   * still apply (NeMo's `generator`).
   */
  readonly generator?: AsyncIterable<string> | Observable<string>;
  /** Request parameters for the main model's call (temperature, max_tokens, ...; NeMo's `options.llm_params`). */
  readonly llmParams?: Readonly<Record<string, unknown>>;
  /** Also record this call's LLM calls here: a UsageTracker or any {@link UsageSink} (the instance records them for explain() either way). */
  readonly usage?: UsageSink;
  /**
   * Backpressure: the main model's stream (or an async `generator`) reads on only while `demand.ready()` says so
   * (a `DemandGate` the consumer pauses while it is behind). Rails' own LLM calls are not paced by it.
   * @default read as fast as the model sends
   */
  readonly demand?: Demand;
  /**
   * This call's answer to an input-rail block, over the instance's `onInputViolation` (a server refuses in streams, as
   * NeMo does, and reports the violation in JSON answers).
   */
  readonly onInputViolation?: 'refuse' | 'error';
  /**
   * Told of each rail check of this call as its verdict comes (input rails on the user's message, output rails on each
   * window): the record a {@link Telemetry} hook gets, for one call rather than the instance (a server showing one
   * request's checks to its client). It runs on the answer's path: it must not throw (what it throws fails the
   * answer) and should be quick.
   * @default none
   */
  readonly onRailCheck?: (check: RailCheckInfo) => void;
}

/** Options of {@link LLMRails.generate}. */
export interface GenerateOptions extends StreamOptions {
  /** Receives the chunks while the answer is produced. */
  readonly streamingHandler?: StreamingHandler;
  /** Ask for a GenerationResponse with a log (NeMo's `options`). */
  readonly options?: { readonly log?: GenerationLogOptions };
  /** Aborts the generation: the returned promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}
