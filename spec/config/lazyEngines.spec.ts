// The regex engine (re2js) and the Jinja engine (@huggingface/jinja) are imported by a config's flows when first
// needed, so a browser bundle of LLMRails and RailsConfig leaves them out (spec/package/bundleSize.spec.ts). Each
// test here runs in a module registry of its own, where nothing has loaded them yet, as in a page that just started.
type Core = typeof import('rxguardrails');

/** Runs `body` with a fresh copy of the library, noting which engines get loaded (their modules evaluated). */
async function freshly(body: (core: Core, loaded: Set<string>) => Promise<void>): Promise<void> {
  const loaded = new Set<string>();
  await jest.isolateModulesAsync(async () => {
    for (const engine of ['re2js', '@huggingface/jinja']) {
      jest.doMock(engine, () => {
        loaded.add(engine);
        return jest.requireActual(engine);
      });
    }
    await body(await import('rxguardrails'), loaded);
  });
}

const main = (answer: string) => ({ type: 'main', engine: 'scripted', parameters: { responses: [answer], delay_ms: 0 } });
const streaming = { enabled: true, chunk_size: 4, context_size: 1, stream_first: false };
const ask = (content: string) => [{ role: 'user' as const, content }];

/** LLMRails on a config whose input a self-check judge (answering No) checks; `prompts` are the prompts it was asked. */
function judgedInput({ LLMRails, RailsConfig, scriptedModel }: Core, template: string): { rails: InstanceType<Core['LLMRails']>; prompts: string[] } {
  const prompts: string[] = [];
  const judge = scriptedModel(
    (messages) => {
      prompts.push(messages.map(({ content }) => content).join('\n'));
      return 'No';
    },
    { delayMs: 0 },
  );
  const rails = new LLMRails(
    RailsConfig.fromContent({
      models: [main('Hello there.')],
      rails: { input: { flows: ['self check input'] } },
      prompts: [{ task: 'self_check_input', content: template }],
    }),
    { models: { self_check_input: judge } },
  );
  return { rails, prompts };
}

/** What a stream gave and how it ended. */
async function outcome(answer$: import('rxjs').Observable<string>): Promise<{ items: string[]; error?: unknown }> {
  const items: string[] = [];
  return new Promise((resolve) => {
    answer$.subscribe({ next: (item) => items.push(item), error: (error: unknown) => resolve({ items, error }), complete: () => resolve({ items }) });
  });
}

describe('the engines of regex check and the LLM-judged flows, imported when first needed', () => {
  it('should read a config naming both flows, and make LLMRails from it, without loading either engine', async () => {
    await freshly(async ({ LLMRails, RailsConfig }, loaded) => {
      const config = RailsConfig.fromContent({
        models: [main('Fine.')],
        rails: {
          input: { flows: ['self check input'] },
          output: { flows: ['regex check'] },
          config: { regex_check: { patterns: ['sk-[A-Za-z0-9]{8,}'] } },
        },
        prompts: [{ task: 'self_check_input', content: 'Allowed? {{ user_input }}' }],
      });
      new LLMRails(config);
      expect([...loaded]).toEqual([]);
    });
  });

  it('should still refuse at load what the engine-free checks find: an empty match, a bad pattern; a lookahead at warmUp', async () => {
    await freshly(async ({ ConfigError, LLMRails, RailsConfig }, loaded) => {
      const load = (pattern: string) => () =>
        RailsConfig.fromContent({ rails: { output: { flows: ['regex check'] }, config: { regex_check: { patterns: ['ok', pattern] } } } }, { file: 'config.yml' });
      expect(load('x*')).toThrow(ConfigError);
      expect(load('x*')).toThrow('config.yml: rails.config.regex_check.patterns[1]: (/x*/u) matches the empty string');
      expect(load('(unclosed')).toThrow('config.yml: rails.config.regex_check.patterns[1]: not a valid regular expression');
      expect([...loaded]).toEqual([]);
      const rails = new LLMRails(load('password(?=:)')(), { models: { main: (await import('rxguardrails')).scriptedModel(['Hi']) } });
      await expect(rails.warmUp()).rejects.toThrow('config.yml: rails.config.regex_check.patterns[1]: (/password(?=:)/u) uses a lookahead (?=…)');
    });
  });

  it('should block with a regex check read before its engine loaded: the first check waits for the engine', async () => {
    await freshly(async ({ LLMRails, RailsConfig, RailViolationError }, loaded) => {
      const rails = new LLMRails(
        RailsConfig.fromContent({
          models: [main('the key is sk-ABCDEFGH12 and more words follow it')],
          streaming: true,
          rails: { output: { flows: ['regex check'], streaming }, config: { regex_check: { patterns: ['sk-[A-Za-z0-9]{8,}'] } } },
        }),
      );
      const { items, error } = await outcome(rails.stream(ask('key?')));
      expect(loaded.has('re2js')).toBe(true);
      expect(items.join('')).not.toContain('sk-');
      expect(RailViolationError.isInstance(error) && error.info.verdict).toEqual(expect.objectContaining({ allowed: false, rail: 'regex check', kind: 'violation' }));
    });
  });

  it('should ask a judge read before the Jinja engine loaded, with the rendered prompt', async () => {
    await freshly(async (core, loaded) => {
      const { rails, prompts } = judgedInput(core, 'Should "{{ user_input }}" be blocked?');
      expect((await outcome(rails.stream(ask('Hi')))).items.join('')).toBe('Hello there.');
      expect(loaded.has('@huggingface/jinja')).toBe(true);
      expect(prompts).toEqual(['Should "Hi" be blocked?']);
    });
  });

  it('should report at warmUp what only the engines can tell, as a ConfigError at its key', async () => {
    await freshly(async ({ ConfigError, LLMRails, RailsConfig }) => {
      const rails = new LLMRails(
        RailsConfig.fromContent(
          {
            models: [main('Hi')],
            rails: { input: { flows: ['self check input'] }, output: { flows: ['regex check'] }, config: { regex_check: { patterns: ['ok', 'a{1001}'] } } },
            prompts: [{ task: 'self_check_input', content: 'Allowed? {{ user_input ' }],
          },
          { file: 'config.yml' },
        ),
      );
      const warming = rails.warmUp();
      await expect(warming).rejects.toThrow(ConfigError);
      const { issues } = (await warming.catch((error: unknown) => error)) as InstanceType<typeof ConfigError>;
      expect(issues).toEqual([
        expect.objectContaining({ key: 'prompts[0].content', message: expect.stringMatching(/^the prompt is not a valid Jinja template: /) }),
        expect.objectContaining({ key: 'rails.config.regex_check.patterns[1]', message: expect.stringContaining('cannot run on the linear-time engine') }),
      ]);
    });
  });

  it('should end the first call, without warmUp, with the ConfigError of a rail the engine refuses, the model never asked', async () => {
    await freshly(async ({ ConfigError, LLMRails, RailsConfig }) => {
      let asked = 0;
      const rails = new LLMRails(
        RailsConfig.fromContent(
          { streaming: true, rails: { output: { flows: ['regex check'], streaming }, config: { regex_check: { patterns: ['a{1001}'] } } } },
          { file: 'config.yml' },
        ),
        { models: { main: (await import('rxguardrails')).scriptedModel(() => (asked++, 'a clean answer'), { delayMs: 0 }) } },
      );
      const { items, error } = await outcome(rails.stream(ask('Hi')));
      expect(items).toEqual([]);
      expect(ConfigError.isInstance(error) && error.issues).toEqual([
        expect.objectContaining({ key: 'rails.config.regex_check.patterns[0]', message: expect.stringContaining('cannot run on the linear-time engine') }),
      ]);
      expect(asked).toBe(0);
    });
  });

  it('should check a synchronous rail read before its engine loaded synchronously from its first window: with streamFirst, nothing past the block', async () => {
    await freshly(async ({ LLMRails, RailsConfig }) => {
      const rails = new LLMRails(
        RailsConfig.fromContent({
          models: [main('one two sk-ABCDEFGH12 four five six seven eight')],
          streaming: true,
          rails: {
            output: { flows: ['regex check'], streaming: { ...streaming, stream_first: true, on_violation: 'chunk' } },
            config: { regex_check: { patterns: ['sk-[A-Za-z0-9]{8,}'] } },
          },
        }),
      );
      const { items } = await outcome(rails.stream(ask('Hi')));
      // Windows of 4 items: the first, 'one two sk-ABCDEFGH12 four ', is released (stream_first) and blocks at once.
      expect(items.slice(0, -1).join('')).toBe('one two sk-ABCDEFGH12 four ');
      expect(items.at(-1)).toContain('Blocked by regex check rails.');
    });
  });

  it('should check everything as the config is read once the engines are loaded', async () => {
    await freshly(async ({ ConfigError, LLMRails, RailsConfig }) => {
      await new LLMRails(
        RailsConfig.fromContent({ models: [main('Hi')], rails: { output: { flows: ['regex check'] }, config: { regex_check: { patterns: ['ok'] } } } }),
      ).warmUp();
      expect(() => RailsConfig.fromContent({ rails: { config: { regex_check: { patterns: ['a{1001}'] } } } })).toThrow(ConfigError);
    });
  });

  it('should not call the judge of a stream unsubscribed while the Jinja engine loads', async () => {
    await freshly(async (core, loaded) => {
      const { rails, prompts } = judgedInput(core, 'Allowed? {{ user_input }}');
      rails.stream(ask('Hi')).subscribe().unsubscribe();
      await rails.warmUp();
      expect(loaded.has('@huggingface/jinja')).toBe(true);
      expect(prompts).toEqual([]);
    });
  });

  it('should load at warmUp only the engines the config needs', async () => {
    await freshly(async ({ LLMRails, RailsConfig }, loaded) => {
      await new LLMRails(RailsConfig.fromContent({ models: [main('Hi')], rails: { output: { flows: ['keyword check'] }, config: { keyword_check: { keywords: ['x'] } } } })).warmUp();
      expect([...loaded]).toEqual([]);
      await new LLMRails(RailsConfig.fromContent({ models: [main('Hi')], rails: { output: { flows: ['regex check'] }, config: { regex_check: { patterns: ['x'] } } } })).warmUp();
      expect([...loaded]).toEqual(['re2js']);
    });
  });
});
