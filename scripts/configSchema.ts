// Writes config.schema.json (the JSON Schema of config.yml, from the zod schema), for editor completion:
// `# yaml-language-server: $schema=../../node_modules/rxguardrails/config.schema.json` at the top of a config.yml.
//
//   npm run schema
import { writeFileSync } from 'node:fs';
import { configJsonSchema } from '../lib/config/configJsonSchema.js';

writeFileSync(new URL('../config.schema.json', import.meta.url), configJsonSchema());
console.log('written config.schema.json');
