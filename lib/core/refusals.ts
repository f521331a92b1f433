// NeMo Guardrails' fixed answers, word for word: the input-rail refusal (and what `mode: 'replace'` emits unless
// told otherwise), and the answer when an input rail fails. One place, so the operators, the facade, the server and
// the CLI cannot drift apart.
import type { RailVerdict } from './types.js';

/** NeMo's refusal text: an input rail blocked the message, or `mode: 'replace'` replaced a blocked answer. */
export const REFUSAL = "I'm sorry, I can't respond to that.";

/** NeMo's answer when an input rail could not decide (its judge failed, it threw): not a refusal on policy. */
const INTERNAL_ERROR_ANSWER = "I'm sorry, an internal error has occurred.";

/** What a blocked message is answered with: the refusal, or for a rail that failed, NeMo's internal-error answer. */
export function blockedAnswer(verdict: RailVerdict): string {
  return verdict.kind === 'internal_error' ? INTERNAL_ERROR_ANSWER : REFUSAL;
}
