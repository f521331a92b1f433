// Internal: how the \`mask sensitive data on input\` rail hands the masked message to the rail plan. Apart from the
// rail (sensitiveData.ts, with its recognizers on the regex engine) so the plan reads a decision without loading it.
import type { RailDecision } from '../core/types.js';

/** Where the masking rail's decision carries the masked message. */
export const MASKED_TEXT = 'maskedText';

/** The masked text a masking rail's decision carries, if the decision is one. */
export function maskedTextOf(decision: RailDecision): string | undefined {
  const masked = decision.details?.[MASKED_TEXT];
  return typeof masked === 'string' ? masked : undefined;
}
