import type { Usage } from '../core/types.js';

/**
 * Adds two usages field by field. Unknown (`undefined`) stays apart from 0: the sum of two unknowns is unknown,
 * and the sum of a known count and an unknown one is the known count.
 *
 * ## Example
 * ```ts
 * import { addUsage } from 'rxguardrails';
 *
 * addUsage({ promptTokens: 10, completionTokens: 5 }, { promptTokens: 3 });
 * // { promptTokens: 13, completionTokens: 5, totalTokens: undefined }
 * ```
 */
export function addUsage(a: Usage, b: Usage): Usage {
  return {
    promptTokens: add(a.promptTokens, b.promptTokens),
    completionTokens: add(a.completionTokens, b.completionTokens),
    totalTokens: add(a.totalTokens, b.totalTokens),
  };
}

function add(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a + b;
}
