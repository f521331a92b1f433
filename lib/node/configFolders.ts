// Internal: where configs are on disk. Which folder entries are never part of a config is decided here, once, for
// both the server's discovery of configs and RailsConfig.fromPath's walk over the YAML files.
import { readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ConfigError } from '../errors/ConfigError.js';

/**
 * Whether a folder entry (file or folder) is left out of config discovery and of a config's files: names starting
 * with `.` (editor and VCS folders) or `_` (NeMo's server skips these: drafts, shared parts), and `node_modules`
 * (a config's rails.js may have dependencies installed next to it, whose YAML files are not config).
 */
export function isSkippedEntry(name: string): boolean {
  return name.startsWith('.') || name.startsWith('_') || name === 'node_modules';
}

/** Whether a folder holds a config: a config.yml (or config.yaml) file. */
function hasConfig(folder: string): boolean {
  return ['config.yml', 'config.yaml'].some((name) => statSync(join(folder, name), { throwIfNoEntry: false })?.isFile());
}

/**
 * The configs a folder serves, as `[id, folder]` pairs sorted by id: the folder itself (named after it) when it
 * holds a config.yml, else each sub-folder that does (named after the sub-folder), as NeMo's server reads
 * `--config`. Sub-folders {@link isSkippedEntry} leaves out are not configs.
 * @throws ConfigError when the folder does not exist or holds no config.
 */
export function configFolders(configDir: string): [string, string][] {
  const root = resolve(configDir);
  if (!statSync(root, { throwIfNoEntry: false })?.isDirectory()) {
    throw new ConfigError([{ file: configDir, message: 'no such config folder' }]);
  }
  if (hasConfig(root)) return [[basename(root), root]];
  const folders = readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !isSkippedEntry(entry.name) && hasConfig(join(root, entry.name)))
    .map((entry): [string, string] => [entry.name, join(root, entry.name)])
    .sort(([a], [b]) => a.localeCompare(b));
  if (folders.length === 0) throw new ConfigError([{ file: configDir, message: 'no config.yml here, nor in any sub-folder' }]);
  return folders;
}
