// The package as users get it: the dual build in dist/, through the exports map, from CommonJS and from ESM.
// `npm test` builds before it runs jest.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const manifest = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | Record<string, Record<string, string>>>;
};

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
}

// Runs a guarded stream and reports what came out; the same text in both module systems.
const scenario = (load: string) => `
  ${load}
  const { from } = rxjs;
  const tokens = ['The ', 'launch ', 'code ', 'is ', '0000'];
  const out = [];
  from(tokens).pipe(core.guard([core.keywordRail(['launch code'])], { chunkSize: 4, contextSize: 2, streamFirst: false })).subscribe({
    next: (token) => out.push(token),
    error: (error) => {
      console.log(JSON.stringify({
        out,
        name: error.name,
        violation: core.RailViolationError.isInstance(error),
        chunk: error.toChunk(),
        testing: Object.keys(testing).sort(),
      }));
    },
  });
`;

const expected = {
  out: [],
  name: 'RailViolationError',
  violation: true,
  chunk: '{"error": {"message": "Blocked by keyword rails.", "type": "guardrails_violation", "param": "keyword", "code": "content_blocked"}}',
  testing: ['createTestScheduler', 'fakeRail', 'scriptedModel', 'tokenSource'],
};

describe('the built package', () => {
  beforeAll(() => {
    if (!existsSync(resolve(root, 'dist/esm/index.js')) || !existsSync(resolve(root, 'dist/cjs/index.js'))) {
      throw new Error('dist/ is missing: run `npm run build` (npm test does it first)');
    }
  });

  it('should point every exports entry at a file that exists', () => {
    const targets = Object.values(manifest.exports).flatMap((entry) =>
      typeof entry === 'string' ? [entry] : Object.values(entry).flatMap((condition) => Object.values(condition)),
    );
    expect(targets.length).toBeGreaterThan(8);
    for (const target of targets) expect(existsSync(resolve(root, target))).toBe(true);
  });

  it('should work through require()', () => {
    const output = node(['-e', scenario(`const core = require('rxguardrails'); const testing = require('rxguardrails/testing'); const rxjs = require('rxjs');`)]);
    expect(JSON.parse(output)).toEqual(expected);
  });

  it('should work through import()', () => {
    const output = node([
      '--input-type=module',
      '-e',
      scenario(`const core = await import('rxguardrails'); const testing = await import('rxguardrails/testing'); const rxjs = await import('rxjs');`),
    ]);
    expect(JSON.parse(output)).toEqual(expected);
  });

  // The LangChain bridge from each build, driving @langchain/core's model from the other module system (the app's
  // LangChain may be either): it types LangChain structurally, so no copy has to match.
  it.each([
    ['require()', `const bridge = require('rxguardrails/langchain'); const { FakeListChatModel } = await import('@langchain/core/utils/testing');`],
    ['import()', `const bridge = await import('rxguardrails/langchain'); const { FakeListChatModel } = require('@langchain/core/utils/testing');`],
  ])('should stream a LangChain model through rxguardrails/langchain from %s', (_, load) => {
    const output = node([
      '-e',
      `(async () => {
        ${load}
        const { lastValueFrom, toArray } = require('rxjs');
        const calls = [];
        const model = bridge.langChainModel(new FakeListChatModel({ responses: ['ok!'] }), { provider: 'fake', model: 'list' });
        const items = await lastValueFrom(model.stream([{ role: 'user', content: 'Hi' }], { usage: { next: (call) => calls.push(call) } }).pipe(toArray()));
        console.log(JSON.stringify({ exports: Object.keys(bridge).sort(), items, calls: calls.map((call) => [call.provider, call.model, call.outcome, call.estimated]) }));
      })();`,
    ]);
    expect(JSON.parse(output)).toEqual({ exports: ['fromLangChain', 'langChainModel'], items: ['o', 'k', '!'], calls: [['fake', 'list', 'completed', true]] });
  });

  it('should load rxguardrails/otel through require() and import(), and an ESM telemetry in a CommonJS LLMRails', () => {
    const output = node([
      '--input-type=module',
      '-e',
      `
      import { createRequire } from 'node:module';
      const esm = await import('rxguardrails/otel');
      const require = createRequire(import.meta.url);
      const cjs = require('rxguardrails/otel');
      const { LLMRails, RailsConfig } = require('rxguardrails');
      const rails = new LLMRails(RailsConfig.fromContent({ models: [{ type: 'main', engine: 'scripted', parameters: { responses: ['Hi'] } }] }), { telemetry: esm.openTelemetry() });
      const answer = await rails.generate([{ role: 'user', content: 'Hello' }]);
      console.log(JSON.stringify({ esm: typeof esm.openTelemetry, cjs: typeof cjs.openTelemetry, answer: answer.content }));
      `,
    ]);
    expect(JSON.parse(output)).toEqual({ esm: 'function', cjs: 'function', answer: 'Hi' });
  });

  it('should recognise errors across the CommonJS and ESM copies', () => {
    const output = node([
      '--input-type=module',
      '-e',
      `
      import { createRequire } from 'node:module';
      const esm = await import('rxguardrails');
      const cjs = createRequire(import.meta.url)('rxguardrails');
      const fromCjs = new cjs.InvalidOptionError('x', 1, 'from the CommonJS copy');
      console.log(JSON.stringify({
        sameClass: esm.InvalidOptionError === cjs.InvalidOptionError,
        instanceOf: fromCjs instanceof esm.InvalidOptionError,
        isInstance: esm.InvalidOptionError.isInstance(fromCjs),
        base: esm.GuardrailError.isInstance(fromCjs),
        other: esm.RailViolationError.isInstance(fromCjs),
      }));
      `,
    ]);
    expect(JSON.parse(output)).toEqual({ sameClass: false, instanceOf: false, isInstance: true, base: true, other: false });
  });

  // An app's ESM code and a CommonJS dependency each load their own copy of the package: what one copy makes, the
  // other takes (brands, not instanceof).
  it.each([
    ['ESM-built config, trackers and handler to the CommonJS-built LLMRails', 'esm', 'cjs'],
    ['CommonJS-built config, trackers and handler to the ESM-built LLMRails', 'cjs', 'esm'],
  ])('should pass %s', (_, maker, user) => {
    const output = node([
      '--input-type=module',
      '-e',
      `
      import { createRequire } from 'node:module';
      const copies = { esm: await import('rxguardrails'), cjs: createRequire(import.meta.url)('rxguardrails') };
      const make = copies.${maker};
      const use = copies.${user};
      const config = make.RailsConfig.fromContent({ models: [{ engine: 'scripted', parameters: { responses: ['Hello there'] } }], streaming: true });
      const instanceUsage = new make.UsageTracker();
      const callUsage = new make.UsageTracker();
      const handler = new make.StreamingHandler();
      const rails = new use.LLMRails(config, { usage: instanceUsage });
      const message = await rails.generate([{ role: 'user', content: 'Hi' }], { usage: callUsage, streamingHandler: handler });
      console.log(JSON.stringify({
        sameClass: make.LLMRails === use.LLMRails,
        content: message.content,
        handler: handler.completion,
        calls: [instanceUsage.snapshot().totals.calls, callUsage.snapshot().totals.calls],
        recognised: {
          config: use.RailsConfig.isInstance(config),
          usage: use.UsageTracker.isInstance(callUsage),
          handler: use.StreamingHandler.isInstance(handler),
          rails: make.LLMRails.isInstance(rails),
          explain: make.ExplainInfo.isInstance(rails.explain()),
        },
      }));
      `,
    ]);
    expect(JSON.parse(output)).toEqual({
      sameClass: false,
      content: 'Hello there',
      handler: 'Hello there',
      calls: [1, 1],
      recognised: { config: true, usage: true, handler: true, rails: true, explain: true },
    });
  });

  it('should ship declarations for both module systems', () => {
    for (const file of ['dist/esm/index.d.ts', 'dist/cjs/index.d.ts', 'dist/esm/testing/index.d.ts', 'dist/cjs/testing/index.d.ts']) {
      expect(readFileSync(resolve(root, file), 'utf8')).toContain('export');
    }
    expect(JSON.parse(readFileSync(resolve(root, 'dist/cjs/package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
  });
});
