import { builtinModules } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(__dirname, '../..');

/** Every module specifier reachable from `entry` through relative imports, with the file importing it. */
function importGraph(entry: string): Map<string, string> {
  const external = new Map<string, string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName: specifier } of importedFiles) {
      if (specifier.startsWith('.')) {
        const target = join(dirname(file), specifier.replace(/\.js$/, '.ts'));
        if (!existsSync(target)) throw new Error(`${relative(root, file)} imports ${specifier}, which does not exist`);
        visit(target);
      } else {
        external.set(specifier, relative(root, file));
      }
    }
  };
  visit(join(root, entry));
  return external;
}

const nodeBuiltins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

describe.each([
  ['lib/index.ts', ['@huggingface/jinja', 'rxjs', 'yaml', 'zod']],
  ['lib/testing/index.ts', ['rxjs', 'rxjs/testing']],
])('the %s entry', (entry, allowed) => {
  it('should import no Node built-in, directly or not, so it bundles for the browser', () => {
    const offenders = [...importGraph(entry)].filter(([specifier]) => nodeBuiltins.has(specifier) || specifier.startsWith('node:'));
    expect(offenders).toEqual([]);
  });

  it(`should depend on nothing but ${allowed.join(' and ')}`, () => {
    expect([...importGraph(entry).keys()].sort()).toEqual(allowed);
  });
});
