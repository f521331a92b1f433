// Every TypeScript block of the README type-checks against the library as it is: each block is compiled as a module
// of its own, with the names a block uses without defining them (tokens$, rails, messages, ...) declared once below.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(__dirname, '../..');

/** What the README's blocks take as given. */
const GIVEN = `
import type { Observable } from 'rxjs';
import type { AnthropicClient, AnthropicParams, OpenAIChatClient, OpenAIChatParams, OutputRail, StreamingHandler, UsageTracker } from 'rxguardrails';
declare global {
  const tokens$: Observable<string>;
  const guarded$: Observable<string>;
  const openai$: Observable<string>;
  const claude$: Observable<string>;
  const rails: readonly OutputRail[];
  const messages: { role: 'user'; content: string }[];
  const streamingHandler: StreamingHandler;
  const usage: UsageTracker;
  const openai: OpenAIChatClient;
  const anthropic: AnthropicClient;
  const params: OpenAIChatParams;
  const anthropicParams: AnthropicParams;
  const response: { write(text: string): void };
  function render(value: unknown): void;
}
export {};
`;

function readmeBlocks(): { line: number; code: string }[] {
  const text = readFileSync(resolve(root, 'README.md'), 'utf8');
  // Blocks inside a list item are indented: the indent is taken off each line.
  return [...text.matchAll(/^( *)```(?:ts|typescript)\n([\s\S]*?)^\1```/gm)].map((match) => ({
    line: text.slice(0, match.index).split('\n').length + 1,
    code: match[2]!.replace(new RegExp(`^${match[1]}`, 'gm'), ''),
  }));
}

/** The compiler's complaints about each block, by the README line the block starts on. */
function diagnostics(blocks: readonly { line: number; code: string }[]): Record<string, string[]> {
  const parsed = ts.getParsedCommandLineOfConfigFile(resolve(root, 'tsconfig.check.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
  // Blocks show a value and move on: an unused name there is no mistake.
  const options = { ...parsed.options, noEmit: true, noUnusedLocals: false, noUnusedParameters: false };
  const files = new Map<string, string>([[resolve(root, 'spec/.readme/given.d.ts'), GIVEN]]);
  blocks.forEach((block, index) => files.set(resolve(root, `spec/.readme/block-${index}.ts`), `${block.code}\nexport {};\n`));
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (file) => files.has(file) || fileExists(file);
  host.readFile = (file) => files.get(file) ?? readFile(file);
  host.getSourceFile = (file, language, ...rest) => {
    const text = files.get(file);
    return text === undefined ? getSourceFile(file, language, ...rest) : ts.createSourceFile(file, text, language);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  const found: Record<string, string[]> = {};
  blocks.forEach((block, index) => {
    const source = program.getSourceFile(resolve(root, `spec/.readme/block-${index}.ts`))!;
    const messages = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map((diagnostic) => {
      const { line } = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      return `README.md:${block.line + line}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
    });
    if (messages.length > 0) found[`block at line ${block.line}`] = messages;
  });
  return found;
}

describe('the README', () => {
  const blocks = readmeBlocks();

  it('should hold TypeScript blocks to check', () => {
    expect(blocks.length).toBeGreaterThan(10);
  });

  it('should have every TypeScript block type-check against the library', () => {
    expect(diagnostics(blocks)).toEqual({});
  });
});
