// Internal: the output parsers a content-safety prompt may name (`output_parser:`), by NeMo's names. Apart from the
// parsers themselves (contentSafetyParsers.ts, which must have one for each), so the config checks a prompt's
// parser at load without loading the judged rails.
export const SAFETY_PARSER_NAMES = [
  'is_content_safe',
  'nemoguard_parse_prompt_safety',
  'nemoguard_parse_response_safety',
  'nemotron_reasoning_parse_prompt_safety',
  'nemotron_reasoning_parse_response_safety',
  'nemotron_content_safety_parse_prompt_safety',
  'nemotron_content_safety_parse_response_safety',
] as const;

export type SafetyParserName = (typeof SAFETY_PARSER_NAMES)[number];
