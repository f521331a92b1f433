// regex_check patterns from config.yml go through regexRail when the config loads (RailsConfig's rule-setting
// check) once the regex engine is loaded (Node's RailsConfig.fromPath loads it first; in a page, warmUp() does), so
// what the linear-time engine cannot run is a ConfigError at the pattern's key. Before that, what only the engine can
// tell waits for warmUp() or the first call (spec/config/lazyEngines.spec.ts).
import { ConfigError, RailsConfig } from 'rxguardrails';
import { loadFlowModules } from '../../lib/config/flows.js';

beforeAll(() => loadFlowModules());

function loadError(patterns: readonly string[]): ConfigError {
  try {
    RailsConfig.fromContent({ rails: { config: { regex_check: { patterns } } } }, { file: 'config.yml' });
  } catch (error) {
    if (ConfigError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('loaded without an error');
}

describe('regex_check patterns, at load', () => {
  it('should name the pattern and the construct the linear-time engine does not support', () => {
    expect(loadError(['sk-[A-Za-z0-9]{20,}', 'password(?=:)']).issues).toEqual([
      expect.objectContaining({
        key: 'rails.config.regex_check.patterns[1]',
        message: '(/password(?=:)/u) uses a lookahead (?=…), which the linear-time engine does not support',
      }),
    ]);
    expect(loadError(['(?<=key: )\\w+', '(["\']).+?\\1']).issues).toEqual([
      expect.objectContaining({
        key: 'rails.config.regex_check.patterns[1]',
        message: String.raw`(/(["']).+?\1/u) uses a backreference (\1), which the linear-time engine does not support`,
      }),
    ]);
  });

  it('should load patterns the engine runs, lookbehinds included', () => {
    expect(() => RailsConfig.fromContent({ rails: { config: { regex_check: { patterns: ['(a+)+$', '(?<=key: )\\w+'] } } } })).not.toThrow();
  });
});
