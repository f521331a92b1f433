import type { LlmCallInfo } from '../core/types.js';
import { brand, hasBrand } from '../internal/brand.js';

/**
 * The LLM calls made so far, and NeMo Guardrails' summary of them (`rails.explain()` in NeMo).
 *
 * ## Example
 * ```ts
 * const info = tracker.explain();
 * info.printLlmCallsSummary();
 * // Summary: 3 LLM call(s) took 1.42 seconds and used 412 tokens.
 * //
 * // 1. Task `self_check_input` took 0.35 seconds and used 169 tokens.
 * // 2. Task `general` took 0.67 seconds and used 90 tokens.
 * // 3. Task `self_check_output` took 0.40 seconds and used 153 tokens.
 * //
 * ```
 */
export class ExplainInfo {
  static {
    brand(this, 'ExplainInfo');
  }

  /** Whether `value` is an ExplainInfo, from any copy of the package (ESM and CommonJS builds alike). */
  static isInstance(value: unknown): value is ExplainInfo {
    return hasBrand(value, 'ExplainInfo');
  }

  constructor(readonly llmCalls: readonly LlmCallInfo[]) {}

  /**
   * Exactly the text NeMo's `print_llm_calls_summary()` prints, newlines included: `No LLM calls were made.`, or a
   * summary line, a blank line, one line per call and a blank line. Without any token count the lines end in
   * `seconds .`, as NeMo's do; a call whose total is unknown reads `used None tokens`.
   */
  summary(): string {
    if (this.llmCalls.length === 0) return 'No LLM calls were made.\n';
    const duration = this.llmCalls.reduce((sum, call) => sum + call.durationMs, 0) / 1000;
    const tokens = this.llmCalls.reduce((sum, call) => sum + (call.totalTokens ?? 0), 0);
    const used = (count: number | undefined) => (tokens > 0 ? ` and used ${count ?? 'None'} tokens.` : ' .');
    const lines = [
      `Summary: ${this.llmCalls.length} LLM call(s) took ${pythonFixed2(duration)} seconds${used(tokens)}`,
      '',
      ...this.llmCalls.map(
        (call, position) => `${position + 1}. Task \`${call.task}\` took ${pythonFixed2(call.durationMs / 1000)} seconds${used(call.totalTokens)}`,
      ),
      '',
    ];
    return lines.join('\n') + '\n';
  }

  /** Prints {@link summary} to the console, byte for byte. */
  printLlmCallsSummary(): void {
    console.log(this.summary().slice(0, -1));
  }
}

/**
 * Python's `f"{value:.2f}"`. It agrees with `toFixed(2)` except on exact ties (0.125, 1.375, ...), which Python
 * rounds to even and `toFixed` rounds up. A tie at two decimals is a value whose eighths are an odd integer.
 */
export function pythonFixed2(value: number): string {
  const eighths = value * 8;
  if (Number.isInteger(eighths) && eighths % 2 !== 0) {
    const hundredths = value * 100; // exact: an odd multiple of 12.5
    const down = Math.floor(hundredths);
    const even = down % 2 === 0 ? down : down + 1;
    return (even / 100).toFixed(2);
  }
  return value.toFixed(2);
}
