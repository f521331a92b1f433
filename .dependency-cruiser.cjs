// The layers of lib/, as dependency rules (`npm run lint:deps`, part of `npm test`). Each layer may import its own
// and the ones below it, never one above:
//
//   core                                the shared vocabulary: types, the refusal texts, lastUserMessage
//   internal, errors                    helpers of every layer; the error classes
//   usage, rails, regex, judges,        usage records and trackers; the rails (regex, judges, detectors: entries
//   detectors, otel                     of rails behind subpaths); otel: the Telemetry hooks as OpenTelemetry
//   operators, sources, models          the RxJS operators; token sources; chat models
//   config, node, testing, ai-sdk,      config.yml (node: read from folders); the test kit; the Vercel AI SDK bridge;
//   langchain                           the LangChain.js bridge (a source and a model built on the ones below)
//   llm                                 the LLMRails facade
//   server, cli                         the OpenAI-compatible server; the command line
//
// Type-only imports count: a type is vocabulary too. spec/package/dependencyRules.spec.ts checks that these rules
// catch what they forbid.

/** The layers, bottom first; a folder may import from its own layer and those before it. */
const LAYERS = [['core'], ['internal', 'errors'], ['usage', 'rails', 'regex', 'judges', 'detectors', 'otel'], ['operators', 'sources', 'models'], ['config', 'node', 'testing', 'ai-sdk', 'langchain'], ['llm'], ['server', 'cli']];

const folders = (layers) => `^lib/(${layers.flat().join('|')})/`;

const layerRules = LAYERS.slice(0, -1).map((layer, position) => ({
  name: `layer-${layer.join('-')}`,
  comment: `lib/${layer.join(', lib/')} may not import a layer above: ${LAYERS.slice(position + 1).flat().join(', ')}`,
  severity: 'error',
  from: { path: folders([layer]) },
  to: { path: folders(LAYERS.slice(position + 1)) },
}));

const { builtinModules } = require('node:module');

/** Node's built-in modules, with and without the `node:` scheme. */
const NODE_BUILTINS = `^(node:.*|${builtinModules.map((name) => name.replace(/[/]/g, '\\/')).join('|')})$`;

/** The browser-safe entries, and what they may reach outside lib/. */
const BROWSER_ENTRIES = '^lib/(index|testing/index|regex/index|judges/index|detectors/index|ai-sdk/index|langchain/index|otel/index)\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles: each module can be read (and loaded) after the ones it imports.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'testing-is-a-leaf',
      comment: 'The test kit is for users\' specs; nothing in lib depends on it.',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/testing/' },
      to: { path: '^lib/testing/' },
    },
    {
      name: 'node-entry-only-from-node-side',
      comment: 'lib/node (file system) is for the Node entry, the server and the CLI; the core never reaches it.',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/(node|server|cli)/' },
      to: { path: '^lib/node/' },
    },
    {
      name: 'browser-entry-no-node-builtins',
      comment: 'rxguardrails and rxguardrails/testing bundle for the browser: nothing they reach imports a Node built-in.',
      severity: 'error',
      from: { path: BROWSER_ENTRIES },
      to: { path: NODE_BUILTINS, reachable: true },
    },
    {
      name: 'browser-entry-no-server-packages',
      comment: 'The browser entries never reach the server framework or an LLM SDK (SDKs are imported at run time only).',
      severity: 'error',
      from: { path: BROWSER_ENTRIES },
      to: { path: '(^|/)node_modules/(hono|@hono/|openai|@anthropic-ai/|@langchain/)', reachable: true },
    },
    {
      name: 'langchain-only-in-its-entry',
      comment: 'Only rxguardrails/langchain speaks LangChain; the core and the other entries never reach it.',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/langchain/' },
      to: { path: '(^|/)node_modules/@langchain/|^lib/langchain/' },
    },
    {
      name: 'ai-sdk-types-only',
      comment: 'ai and @ai-sdk/provider are optional peers of rxguardrails/ai-sdk, used for their types: nothing loads them.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '(^|/)node_modules/(ai|@ai-sdk/[^/]+)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'ai-sdk-only-in-its-entry',
      comment: 'Only rxguardrails/ai-sdk speaks the AI SDK; the core and the other entries never reach it.',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/ai-sdk/' },
      to: { path: '(^|/)node_modules/(ai|@ai-sdk/[^/]+)/|^lib/ai-sdk/' },
    },
    {
      name: 'opentelemetry-only-in-otel',
      comment: 'OpenTelemetry is an optional peer: only rxguardrails/otel imports it; the CLI loads it (and the SDK) by dynamic import when asked to export.',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/otel/' },
      to: { path: '(^|/)node_modules/@opentelemetry/', dependencyTypesNot: ['dynamic-import'] },
    },
    {
      name: 'otel-entry-loaded-lazily',
      comment: 'The CLI imports rxguardrails/otel only by dynamic import: a server without OpenTelemetry installed must start.',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/otel/' },
      to: { path: '^lib/otel/', dependencyTypesNot: ['dynamic-import', 'type-only'] },
    },
    {
      name: 'no-sdk-imports',
      comment: 'The provider SDKs and LangChain are optional peers: typed structurally, loaded by dynamic import where needed.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '(^|/)node_modules/(openai|@anthropic-ai/sdk|@langchain/core)/', dependencyTypesNot: ['type-only', 'dynamic-import'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.build.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
