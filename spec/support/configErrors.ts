// The ConfigError a config's loading (or its rails' building) throws, for specs of what it reports.
import { ConfigError } from 'rxguardrails';

/** What `make` throws, which must be a ConfigError; fails the spec when it throws something else or nothing. */
export function configErrorOf(make: () => unknown): ConfigError {
  try {
    make();
  } catch (error) {
    if (ConfigError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('loaded without an error');
}
