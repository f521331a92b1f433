// The page of spec/browser/coreBundle.spec.ts: a browser app of the core entry (LLMRails in the page, and
// fromGuardrailsServer calling a guardrails server on another origin). The spec bundles this file with esbuild
// from the BUILT package, splitting on, as an app's bundler would, and calls the functions below from the test:
// each reads a config from YAML text, runs guarded streams into the page, as a chat would show them, and reports
// what came out. The configs are the spec's; nothing here knows which flows they name.
import type { Observable } from 'rxjs';
import { ConfigError, fromGuardrailsServer, LLMRails, RailsConfig, RailViolationError } from 'rxguardrails';

/** How a stream or a warm-up failed. */
export interface ErrorReport {
  readonly name: string;
  readonly message: string;
  /** RailViolationError.isInstance(error). */
  readonly violation: boolean;
  /** ConfigError.isInstance(error). */
  readonly configError: boolean;
  /** The rail that blocked, for a violation. */
  readonly rail?: string;
}

/** What one guarded stream gave the page and how it ended. */
export interface StreamReport {
  readonly chunks: readonly string[];
  readonly error?: ErrorReport;
}

/** What one LLMRails gave, question after question, and the tasks of the LLM calls it made (from explain()). */
export interface StreamsReport {
  readonly streams: readonly StreamReport[];
  readonly llmCalls: readonly string[];
}

/** What the page offers the spec, on `window.coreBundlePage`. */
export interface CoreBundlePage {
  /** Makes one LLMRails from `config` and streams an answer to each question in turn (the scripted model's answers in turn). */
  stream(label: string, config: string, questions: readonly string[]): Promise<StreamsReport>;
  /** Makes an LLMRails from `config` and warms it up; reports how that failed, or undefined. */
  warmUp(label: string, config: string): Promise<ErrorReport | undefined>;
  /** Asks a guardrails server each question in turn with fromGuardrailsServer (`server`: its options but messages). */
  ask(label: string, server: { baseURL: string; configId?: string; apiKey?: string }, questions: readonly string[]): Promise<readonly StreamReport[]>;
}

declare global {
  interface Window {
    coreBundlePage: CoreBundlePage;
  }
}

function reportError(error: unknown): ErrorReport {
  const { name, message } = error instanceof Error ? error : { name: typeof error, message: String(error) };
  return {
    name,
    message,
    violation: RailViolationError.isInstance(error),
    configError: ConfigError.isInstance(error),
    ...(RailViolationError.isInstance(error) ? { rail: error.info.rail } : {}),
  };
}

/** A section of the page for one call of the spec: a heading and a line per stream. */
function section(label: string): HTMLElement {
  const element = document.createElement('section');
  const heading = document.createElement('h2');
  heading.textContent = label;
  element.append(heading);
  document.body.append(element);
  return element;
}

function line(parent: HTMLElement, className: string, text = ''): HTMLElement {
  const element = document.createElement('p');
  element.className = className;
  element.textContent = text;
  parent.append(element);
  return element;
}

/** Streams one answer into `output`, chunk by chunk, as a chat shows it. */
function streamInto(answer$: Observable<string>, output: HTMLElement): Promise<StreamReport> {
  const chunks: string[] = [];
  return new Promise((resolve) => {
    answer$.subscribe({
      next: (chunk) => {
        chunks.push(chunk);
        output.textContent += chunk;
      },
      error: (error: unknown) => {
        const report = reportError(error);
        line(output.parentElement!, 'error', `${report.name}: ${report.message}`);
        resolve({ chunks, error: report });
      },
      complete: () => resolve({ chunks }),
    });
  });
}

window.coreBundlePage = {
  async stream(label, config, questions) {
    const rails = new LLMRails(RailsConfig.fromContent(config, { file: 'config.yml' }));
    const element = section(label);
    const streams: StreamReport[] = [];
    for (const question of questions) {
      line(element, 'question', `> ${question}`);
      streams.push(await streamInto(rails.stream([{ role: 'user', content: question }]), line(element, 'answer')));
    }
    return { streams, llmCalls: rails.explain().llmCalls.map(({ task }) => task) };
  },
  async warmUp(label, config) {
    const element = section(label);
    try {
      await new LLMRails(RailsConfig.fromContent(config, { file: 'config.yml' })).warmUp();
      line(element, 'answer', 'warmed up');
      return undefined;
    } catch (error) {
      const report = reportError(error);
      line(element, 'error', `${report.name}: ${report.message}`);
      return report;
    }
  },
  async ask(label, server, questions) {
    const element = section(label);
    const streams: StreamReport[] = [];
    for (const question of questions) {
      line(element, 'question', `> ${question}`);
      streams.push(await streamInto(fromGuardrailsServer({ ...server, messages: [{ role: 'user', content: question }] }), line(element, 'answer')));
    }
    return streams;
  },
};
document.body.dataset['ready'] = 'true';
