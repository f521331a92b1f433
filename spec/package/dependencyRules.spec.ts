// The dependency rules (.dependency-cruiser.cjs) that `npm test` applies to lib/ must catch what they forbid: run on
// a miniature lib/ breaking each rule once, they report each break. Were a rule's path pattern wrong, it would pass
// on the real lib/ whatever it held.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(__dirname, '../..');
// The package's exports map hides its bin from require.resolve; npm puts it here.
const depcruise = resolve(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}

function violations(folder: string): Violation[] {
  const config = resolve(root, '.dependency-cruiser.cjs');
  const args = [depcruise, 'lib', '--config', config, '--output-type', 'json'];
  let output: string;
  try {
    output = execFileSync(process.execPath, args, { cwd: folder, encoding: 'utf8' });
  } catch (error) {
    // depcruise exits non-zero when it finds violations; the report is still on stdout.
    output = (error as { stdout: string }).stdout;
  }
  return (JSON.parse(output) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('dependency rules', () => {
  const found = violations(resolve(root, 'spec/fixtures/layers'));
  const named = (rule: string) => found.filter((violation) => violation.rule.name === rule).map(({ from, to }) => `${from} -> ${to}`);

  it('should report an import from a lower layer to a higher one', () => {
    expect(named('layer-core')).toEqual(['lib/core/vocabulary.ts -> lib/llm/facade.ts']);
  });

  it('should report an import cycle', () => {
    // Reported once, at the first module of the cycle.
    expect(named('no-circular')).toEqual(['lib/core/vocabulary.ts -> lib/llm/facade.ts']);
  });

  it('should report a Node built-in reachable from the browser entry, however indirectly', () => {
    expect(named('browser-entry-no-node-builtins')).toEqual(['lib/index.ts -> fs']);
  });

  it('should report a dependency on the test kit', () => {
    expect(named('testing-is-a-leaf')).toEqual(['lib/operators/usesTesting.ts -> lib/testing/kit.ts']);
  });

  it('should report OpenTelemetry imported outside the otel entry', () => {
    expect(named('opentelemetry-only-in-otel').map((violation) => violation.replace(/ -> .*node_modules\//, ' -> '))).toEqual([
      expect.stringMatching(/^lib\/server\/usesOtelApi\.ts -> @opentelemetry\/api\//),
    ]);
  });

  it('should report the otel entry imported statically, and not by import()', () => {
    expect(named('otel-entry-loaded-lazily')).toEqual(['lib/cli/otelEntry.ts -> lib/otel/entry.ts']);
  });

  it('should find nothing to report in the real lib/', () => {
    expect(violations(root)).toEqual([]);
  });
});
