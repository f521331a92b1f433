// PROVISIONAL: a stand-in for `fromGuardrailsServer` from 'rxguardrails', which is being built in the library (branch
// `client`). It has that function's signature and contract (Observable<string>; a server block is a
// RailViolationError whose info.rail names the rail; other failures ProviderError; unsubscribing aborts the
// request) so the chat panel is written against it. Replaced by a re-export once the library has it.
import { Observable } from 'rxjs';
import { type ChatMessage, ProviderError, RailViolationError } from 'rxguardrails';

export interface GuardrailsServerOptions {
  /** The server's address, e.g. http://127.0.0.1:8000 (the `/v1` routes are under it). */
  readonly baseURL: string;
  readonly messages: readonly ChatMessage[];
  readonly configId?: string;
  readonly apiKey?: string;
}

interface Frame {
  readonly choices?: readonly { readonly delta?: { readonly content?: string | null } }[];
  readonly error?: { readonly message: string; readonly type?: string; readonly param?: string; readonly code?: string };
}

export function fromGuardrailsServer({ baseURL, messages, configId, apiKey }: GuardrailsServerOptions): Observable<string> {
  return new Observable<string>((subscriber) => {
    const controller = new AbortController();
    let during: 'request' | 'stream' = 'request';
    const fail = (detail: string, extra: { status?: number; type?: string; code?: string } = {}) =>
      subscriber.error(new ProviderError({ provider: 'rxguardrails-server', during, detail, ...extra }));
    (async () => {
      const response = await fetch(`${baseURL.replace(/\/+$/, '')}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }) },
        body: JSON.stringify({ model: configId ?? 'default', messages, stream: true, ...(configId === undefined ? {} : { config_id: configId }) }),
        signal: controller.signal,
      });
      if (!response.ok || response.body === null) {
        const { error } = ((await response.json().catch(() => ({}))) ?? {}) as Frame;
        fail(error?.message ?? response.statusText, { status: response.status, ...(error?.type ? { type: error.type } : {}), ...(error?.code ? { code: error.code } : {}) });
        return;
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffered = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffered += value;
        const events = buffered.split('\n\n');
        buffered = events.pop() ?? '';
        for (const event of events) {
          const data = event.split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trim()).join('\n');
          if (data === '' || data === '[DONE]') continue;
          const frame = JSON.parse(data) as Frame;
          if (frame.error?.type === 'guardrails_violation' || frame.error?.type === 'internal_error') {
            const rail = frame.error.param ?? 'unknown';
            const kind = frame.error.type === 'internal_error' ? 'internal_error' : 'violation';
            subscriber.error(new RailViolationError({ rail, batchIndex: -1, verdict: { rail, allowed: false, kind, reason: frame.error.message } }));
            return;
          }
          if (frame.error) return fail(frame.error.message, { ...(frame.error.type ? { type: frame.error.type } : {}) });
          const content = frame.choices?.[0]?.delta?.content;
          if (content) {
            during = 'stream';
            subscriber.next(content);
          }
        }
      }
      subscriber.complete();
    })().catch((error: unknown) => {
      if (!controller.signal.aborted) fail(error instanceof Error ? error.message : String(error), { type: 'connection_error' });
    });
    return () => controller.abort();
  });
}
