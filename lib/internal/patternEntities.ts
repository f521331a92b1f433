// Internal: the entities rxguardrails recognizes without a named-entity model (piiRecognizers.ts has a recognizer
// for each). Apart from the recognizers, which run on the regex engine, so a config is checked at load without it.
export const PATTERN_ENTITIES = ['EMAIL_ADDRESS', 'PHONE_NUMBER', 'CREDIT_CARD', 'IBAN_CODE', 'IP_ADDRESS', 'US_SSN', 'US_ITIN', 'UK_NHS', 'URL'] as const;
