import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ConfigSource } from '../config/configSources.js';
import { parseYamlSource } from '../config/configSources.js';
import { RailsConfig as CoreRailsConfig, type CustomRails, type RailsConfigOptions } from '../config/RailsConfig.js';
import { loadFlowModules } from '../config/flows.js';
import { ConfigError } from '../errors/ConfigError.js';
import { isSkippedEntry } from './configFolders.js';

const RAILS_MODULES = ['rails.js', 'rails.mjs', 'rails.cjs'];

/**
 * {@link CoreRailsConfig} with `fromPath`, which reads a config folder (Node only).
 *
 * ## Example
 * ```ts
 * import { LLMRails } from 'rxguardrails';
 * import { RailsConfig } from 'rxguardrails/node';
 *
 * const rails = new LLMRails(await RailsConfig.fromPath('./config'));
 * ```
 */
export class RailsConfig extends CoreRailsConfig {
  /**
   * Reads a config folder as NeMo Guardrails does: every `*.yml` / `*.yaml` below it (entries starting with `.`
   * or `_`, and node_modules, skipped; `config.yml` first, then by path) merged into one config, and the custom
   * rails its `rails.js` (or `rails.mjs`, `rails.cjs`) exports by flow name, as a default export
   * `{ 'flow name': rail or check function }`. A path to one YAML file reads only that file.
   * @throws ConfigError naming file, line, column and key.
   */
  static async fromPath(path: string, options: Omit<RailsConfigOptions, 'file'> = {}): Promise<CoreRailsConfig> {
    // With the regex and Jinja engines loaded, patterns and prompts are checked in full as the config is read.
    await loadFlowModules();
    const root = resolve(path);
    let stats;
    try {
      stats = statSync(root);
    } catch {
      throw new ConfigError([{ file: path, message: 'no such config folder or file' }]);
    }
    const display = (file: string) => relative(process.cwd(), file) || basename(file);
    if (!stats.isDirectory()) {
      if (!['.yml', '.yaml'].includes(extname(root))) throw new ConfigError([{ file: display(root), message: 'a config file must be a .yml or .yaml file' }]);
      return CoreRailsConfig.fromSources([parseYamlSource(display(root), readFileSync(root, 'utf8'))], options);
    }
    const files = yamlFiles(root);
    if (files.length === 0) throw new ConfigError([{ file: display(root), message: 'no .yml or .yaml file in the config folder' }]);
    const sources: ConfigSource[] = files.map((file) => parseYamlSource(display(file), readFileSync(file, 'utf8')));
    const rails = await loadRailsModule(root, display);
    return CoreRailsConfig.fromSources(sources, { ...options, rails: { ...rails, ...options.rails } });
  }
}

function yamlFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (isSkippedEntry(entry.name)) continue;
      const full = join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(entry.name)) found.push(full);
    }
  };
  walk(root);
  const rank = (file: string) => (relative(root, file).match(/^config\.ya?ml$/) ? 0 : 1);
  return found.sort((a, b) => rank(a) - rank(b) || relative(root, a).localeCompare(relative(root, b)));
}

async function loadRailsModule(root: string, display: (file: string) => string): Promise<CustomRails> {
  const file = RAILS_MODULES.map((name) => join(root, name)).find((candidate) => statSync(candidate, { throwIfNoEntry: false })?.isFile());
  if (!file) return {};
  let module: { default?: unknown; rails?: unknown };
  try {
    // The CommonJS build turns import() into require(), which takes a path (and loads ES modules since Node 20.19);
    // ESM's import() takes a URL.
    const specifier = typeof require === 'function' ? file : pathToFileURL(file).href;
    module = (await import(specifier)) as { default?: unknown; rails?: unknown };
  } catch (error) {
    throw new ConfigError([{ file: display(file), message: `could not load it: ${(error as Error).message}` }], { cause: error });
  }
  const exported = module.rails ?? module.default;
  if (exported === null || typeof exported !== 'object' || Array.isArray(exported)) {
    throw new ConfigError([{ file: display(file), message: "it must export its rails by flow name: export default { 'flow name': rail or check function }" }]);
  }
  for (const [name, rail] of Object.entries(exported)) {
    const valid = typeof rail === 'function' || (rail !== null && typeof rail === 'object' && typeof (rail as { check?: unknown }).check === 'function');
    if (!valid) throw new ConfigError([{ file: display(file), key: name, message: 'must be a rail ({ name, check }) or a check function' }]);
  }
  return exported as CustomRails;
}
