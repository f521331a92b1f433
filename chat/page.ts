// The chat page `rxguardrails server` serves at `/`: a config picker, a chat whose answers stream in, and beside
// them a timeline of what the rails did (the `stream_options.include_guardrails` events). Bundled at build time
// (scripts/build.mjs) into one HTML file with this script and its style inline; no framework, no network but the
// server's own /v1 API. Everything the server sends is rendered as text (textContent), never as HTML.
import { createParser } from 'eventsource-parser';
// Types only (erased by esbuild): the events are declared once, where the server makes them.
import type { GuardrailsEvent } from '../lib/server/guardrailsEvents.js';

interface ConfigEntry {
  readonly id: string;
  readonly available?: false;
  readonly reason?: string;
}

interface Chunk {
  readonly choices?: readonly { readonly delta?: { readonly content?: string | null } }[];
  readonly guardrails?: { readonly events?: readonly GuardrailsEvent[] };
  readonly error?: { readonly message?: string; readonly type?: string; readonly param?: string | null };
}

interface Turn {
  readonly role: 'user' | 'assistant';
  content: string;
}

const KEY_STORAGE = 'rxguardrails.apiKey';
/**
 * The most the conversation sent with a question may weigh, in bytes of its JSON: well below the server's body limit
 * (1 MiB by default), so that a long chat does not end in 413s. Older turns beyond it are left out, and the page says so.
 */
const HISTORY_BUDGET = 256 * 1024;
/** Turns whose timeline is kept on the page: older ones are removed as new ones come. */
const TIMELINE_TURNS = 20;

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const configSelect = byId<HTMLSelectElement>('config');
const keyForm = byId<HTMLFormElement>('key-form');
const keyInput = byId<HTMLInputElement>('key');
const notice = byId<HTMLParagraphElement>('notice');
const unavailableList = byId<HTMLUListElement>('unavailable');
const history = byId<HTMLOListElement>('history');
const composer = byId<HTMLFormElement>('composer');
const input = byId<HTMLTextAreaElement>('input');
const sendButton = byId<HTMLButtonElement>('send');
const stopButton = byId<HTMLButtonElement>('stop');
const newChatButton = byId<HTMLButtonElement>('new-chat');
const trimmedNote = byId<HTMLParagraphElement>('trimmed');
const turns = byId<HTMLDivElement>('turns');
const timelineEmpty = byId<HTMLParagraphElement>('timeline-empty');

/** An element with attributes and text or element children: text is always a text node. */
function el(tag: string, attributes: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

let apiKey = sessionStorage.getItem(KEY_STORAGE) ?? '';
let conversation: Turn[] = [];
let running: AbortController | undefined;

function headers(): Record<string, string> {
  return { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) };
}

function showNotice(text: string | undefined): void {
  notice.hidden = text === undefined;
  notice.textContent = text ?? '';
}

/** The server wants a key: the field shows, and what failed is tried again once one is given. */
function askForKey(retry: () => void): void {
  keyForm.hidden = false;
  showNotice(apiKey ? 'The server refused this API key; enter the right one.' : 'This server needs an API key (its --api-key); enter it to go on.');
  keyInput.focus();
  keyForm.onsubmit = (event) => {
    event.preventDefault();
    apiKey = keyInput.value.trim();
    sessionStorage.setItem(KEY_STORAGE, apiKey);
    keyForm.hidden = true;
    showNotice(undefined);
    input.focus();
    retry();
  };
}

async function loadConfigs(): Promise<void> {
  let response: Response;
  try {
    response = await fetch('/v1/rails/configs', { headers: headers() });
  } catch {
    showNotice('The server cannot be reached.');
    return;
  }
  if (response.status === 401) return askForKey(() => void loadConfigs());
  if (!response.ok) return showNotice(`The server did not list its configs (HTTP ${response.status}).`);
  const configs = (await response.json()) as ConfigEntry[];
  const remembered = configSelect.value;
  configSelect.replaceChildren();
  unavailableList.replaceChildren();
  for (const config of configs) {
    const option = el('option', { value: config.id }, config.available === false ? `${config.id} (unavailable)` : config.id) as HTMLOptionElement;
    if (config.available === false) {
      option.disabled = true;
      option.title = config.reason ?? '';
      unavailableList.append(el('li', { 'data-config': config.id }, el('strong', {}, config.id), ` is unavailable: ${config.reason ?? 'it cannot answer here'}`));
    }
    configSelect.append(option);
  }
  unavailableList.hidden = unavailableList.childElementCount === 0;
  const usable = configs.filter((config) => config.available !== false);
  const chosen = usable.find((config) => config.id === remembered) ?? usable[0];
  if (chosen) configSelect.value = chosen.id;
  configSelect.disabled = usable.length === 0;
  if (configs.length === 0) showNotice('This server has no configs.');
  else if (usable.length === 0) showNotice('No config can answer on this server: see why below.');
}

/** One assistant answer as it is drawn: its text, its state line, its timeline section. */
class Answer {
  readonly item: HTMLElement;
  readonly text = el('span', { class: 'text' });
  readonly state = el('span', { class: 'state' }, 'Waiting for the first token…');
  private readonly rows = el('ol', { class: 'rows' });
  readonly section: HTMLElement;
  private released = 0;
  /** The reasons of the checks that blocked, by rail, from the timeline: the marker takes the blocking rail's. */
  private readonly blockedReasons = new Map<string, string>();

  constructor(question: string, configId: string) {
    this.item = el('li', { class: 'message assistant', 'data-state': 'streaming', 'aria-busy': 'true' }, el('span', { class: 'who' }, `Assistant · ${configId}`), this.text, this.state);
    history.append(this.item);
    timelineEmpty.hidden = true;
    const excerpt = question.length > 60 ? `${question.slice(0, 60)}…` : question;
    this.section = el('section', { class: 'turn' }, el('h3', {}, `${configId}: “${excerpt}”`), this.rows);
    // The newest turn first: it is the one being watched. The oldest go, so that a long chat keeps a short timeline.
    turns.prepend(this.section);
    while (turns.childElementCount > TIMELINE_TURNS) turns.lastElementChild!.remove();
  }

  append(token: string): void {
    if (this.released === 0) this.state.textContent = 'Streaming…';
    this.released += token.length;
    this.text.append(token);
  }

  get content(): string {
    return this.text.textContent ?? '';
  }

  event(event: GuardrailsEvent): void {
    if (event.type === 'rail_check') {
      const { verdict } = event;
      if (!verdict.allowed && verdict.reason) this.blockedReasons.set(event.rail, verdict.reason);
      const row = el(
        'li',
        { class: 'row check', 'data-verdict': verdict.kind, 'data-window': String(event.window_index), 'data-side': event.side },
        el('span', { class: 'window' }, event.side === 'input' ? 'input' : `window ${event.window_index}`),
        el('span', { class: 'rail' }, event.rail),
        el('span', { class: verdict.kind }, verdict.kind === 'pass' ? 'passed' : verdict.kind === 'violation' ? 'blocked' : 'failed'),
        el('span', { class: 'latency' }, `${event.duration_ms.toFixed(1)} ms`),
        el('span', { class: 'released' }, event.side === 'input' ? 'before the model' : `released up to char ${event.released_up_to}`),
      );
      if (verdict.reason) row.append(el('span', { class: 'reason' }, verdict.reason));
      this.rows.append(row);
    } else if (event.type === 'llm_call') {
      const tokens = event.total_tokens === null ? 'tokens unknown' : `${event.total_tokens} tokens (${event.prompt_tokens ?? '?'} in, ${event.completion_tokens ?? '?'} out)`;
      const what = event.task === 'general' ? 'model call' : `judge call: ${event.task}`;
      this.rows.append(
        el('li', { class: 'row call', 'data-task': event.task }, el('span', { class: 'window' }, what), el('span', {}, event.model), el('span', {}, tokens), el('span', {}, `${event.duration_ms.toFixed(0)} ms`), el('span', {}, event.outcome)),
      );
    } else if (event.type === 'explain') {
      this.rows.after(el('pre', { class: 'explain', 'aria-label': 'explain() summary' }, event.summary.trimEnd()));
    }
  }

  /** The answer's end: its state line, and the marker of a block. */
  end(state: 'done' | 'blocked' | 'stopped' | 'error', detail?: { rail?: string | null; message?: string; side?: string }): void {
    this.item.setAttribute('data-state', state);
    this.item.setAttribute('aria-busy', 'false');
    if (state === 'done') this.state.textContent = this.released === 0 ? 'Done (empty answer).' : 'Done.';
    else if (state === 'stopped') this.state.textContent = 'Stopped: the request was cancelled, and with it the model.';
    else if (state === 'error') this.state.textContent = `Error: ${detail?.message ?? 'the answer failed'}`;
    else {
      this.state.textContent = '';
      const rail = detail?.rail ?? 'a rail';
      const why = (detail?.rail ? this.blockedReasons.get(detail.rail) : undefined) ?? detail?.message ?? '';
      // No role=alert: #history is the live region, and it announces the marker once, as it comes.
      this.item.append(
        el(
          'span',
          { class: 'marker' },
          'Blocked by ',
          el('strong', { class: 'marker-rail' }, rail),
          why ? `: ${why}` : '',
          this.released > 0 ? '. The text above was released before the block; the rest was held back.' : '. Nothing of the answer was released.',
        ),
      );
    }
  }
}

/**
 * The conversation as it is sent: the newest turns that fit {@link HISTORY_BUDGET} (the question always), starting
 * with a user turn; and whether older turns were left out.
 */
function toSend(): { messages: Turn[]; trimmed: boolean } {
  const weight = (turn: Turn) => new TextEncoder().encode(JSON.stringify(turn)).length + 1;
  let start = conversation.length - 1;
  let total = weight(conversation[start]!);
  while (start > 0 && total + weight(conversation[start - 1]!) <= HISTORY_BUDGET) total += weight(conversation[--start]!);
  while (start < conversation.length - 1 && conversation[start]!.role !== 'user') start++;
  return { messages: conversation.slice(start), trimmed: start > 0 };
}

function setRunning(controller: AbortController | undefined): void {
  running = controller;
  sendButton.disabled = controller !== undefined;
  stopButton.disabled = controller === undefined;
}

async function send(question: string): Promise<void> {
  const configId = configSelect.value;
  if (!configId || configSelect.disabled) return showNotice('Choose a config that can answer first.');
  showNotice(undefined);
  const asked = el('li', { class: 'message user' }, el('span', { class: 'who' }, 'You'), question);
  history.append(asked);
  const thread = conversation;
  thread.push({ role: 'user', content: question });
  const { messages, trimmed } = toSend();
  trimmedNote.hidden = !trimmed;
  const answer = new Answer(question, configId);
  const controller = new AbortController();
  setRunning(controller);
  let ended = false;
  const finish = (...args: Parameters<Answer['end']>) => {
    if (ended) return;
    ended = true;
    answer.end(...args);
  };
  try {
    const response = await fetch('/v1/chat/completions', {
      method: 'POST',
      headers: headers(),
      signal: controller.signal,
      body: JSON.stringify({
        model: configId,
        messages,
        stream: true,
        stream_options: { include_guardrails: true },
        // An input-rail block as the violation frame, so the page can mark it as one (not as the refusal text).
        guardrails: { config_id: configId, input_violation: 'error' },
      }),
    });
    if (response.status === 401) {
      // Not an answer: the exchange leaves the page, and the question is asked again once a key is given.
      ended = true;
      asked.remove();
      answer.item.remove();
      answer.section.remove();
      askForKey(() => void send(question));
      return;
    }
    if (!response.ok || !response.body) {
      const body = (await response.json().catch(() => ({}))) as Chunk;
      finish('error', { message: body.error?.message ?? `HTTP ${response.status}` });
      return;
    }
    const parser = createParser({
      onEvent: ({ data }) => {
        if (data === '[DONE]') return finish('done');
        const chunk = JSON.parse(data) as Chunk;
        if (chunk.error) {
          const blocked = chunk.error.type === 'guardrails_violation' || chunk.error.type === 'internal_error';
          return finish(blocked ? 'blocked' : 'error', { rail: chunk.error.param ?? null, message: chunk.error.message ?? '' });
        }
        for (const event of chunk.guardrails?.events ?? []) answer.event(event);
        const content = chunk.choices?.[0]?.delta?.content;
        if (content) answer.append(content);
      },
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(value);
    }
    // A stream that ends without [DONE] was cut (the server dropped the connection), not finished.
    finish('error', { message: 'the stream ended before the answer did' });
  } catch (error) {
    if (controller.signal.aborted) finish('stopped');
    else finish('error', { message: error instanceof Error ? error.message : String(error) });
  } finally {
    // An exchange that produced no text (blocked before any, failed, stopped at once) leaves the history: some providers
    // refuse an empty assistant message, and a refused question is no context to build on.
    // A new chat started meanwhile has a conversation of its own.
    if (thread === conversation) {
      if (answer.content === '') thread.pop();
      else thread.push({ role: 'assistant', content: answer.content });
    }
    setRunning(undefined);
  }
}

function stop(): void {
  running?.abort();
}

/** A new chat: what runs is stopped, and the conversation and its timeline are cleared. */
function newChat(): void {
  stop();
  conversation = [];
  history.replaceChildren();
  turns.replaceChildren();
  timelineEmpty.hidden = false;
  trimmedNote.hidden = true;
  showNotice(undefined);
  input.focus();
}

composer.addEventListener('submit', (event) => {
  event.preventDefault();
  const question = input.value.trim();
  if (!question || running) return;
  input.value = '';
  void send(question);
});
input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    composer.requestSubmit();
  }
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && running) {
    event.preventDefault();
    stop();
  }
});
stopButton.addEventListener('click', stop);
newChatButton.addEventListener('click', newChat);
void loadConfigs();
input.focus();
