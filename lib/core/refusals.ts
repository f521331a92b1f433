// NeMo Guardrails' fixed answers, word for word: the input-rail refusal, and what `mode: 'replace'` emits unless
// told otherwise. One place, so the operators, the facade, the server and the CLI cannot drift apart.

/** NeMo's refusal text: an input rail blocked the message, or `mode: 'replace'` replaced a blocked answer. */
export const REFUSAL = "I'm sorry, I can't respond to that.";
