// Internal: the JSON Schema of config.yml, generated from the zod schema, for editor completion
// (`npm run schema` writes it to config.schema.json; a spec keeps the committed file in step).
import * as z from 'zod/mini';
import { railsConfigSchema } from './railsConfigSchema.js';

export function configJsonSchema(): string {
  const schema = z.toJSONSchema(railsConfigSchema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'rxguardrails config.yml', description: "NeMo Guardrails' config.yml keys, as rxguardrails reads them" }, null, 2)}\n`;
}
