// The part of @huggingface/jinja rxguardrails uses. The package's own declarations import relative paths without
// file extensions, which TypeScript rejects under `moduleResolution: nodenext` (TS2834) unless every library
// check is skipped; tsconfig maps the package here for type checking only. Runtime code is the package's.
export declare class Template {
  constructor(template: string);
  render(items?: Record<string, unknown>): string;
}
