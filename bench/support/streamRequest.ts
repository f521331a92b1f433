// One streaming chat completion over raw node:http, timed, for the server benchmarks: the time to the first frame
// with content and to the end, the text the frames carried, and whether the stream ended as it should.
import { type Agent, request as httpRequest } from 'node:http';

export interface StreamedAnswer {
  /** Milliseconds to the first frame with non-empty content (0 if none came). */
  readonly firstToken: number;
  /** Milliseconds to the end of the response. */
  readonly done: number;
  /** The content of the `chat.completion.chunk` frames, joined. */
  readonly text: string;
  /** Status 200 and the last frame `data: [DONE]`. */
  readonly complete: boolean;
}

/** Sends `body` to /v1/chat/completions; settles with the answer, or with null if the request or response failed. */
export function streamRequest(port: number, agent: Agent, body: string): Promise<StreamedAnswer | null> {
  return new Promise((resolve) => {
    const started = performance.now();
    let settled = false;
    const settle = (answer: StreamedAnswer | null) => {
      if (settled) return;
      settled = true;
      resolve(answer);
    };
    const request = httpRequest(
      { host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (response) => {
        let raw = '';
        let firstToken = 0;
        response.setEncoding('utf8');
        response.on('data', (piece: string) => {
          raw += piece;
          if (firstToken === 0 && /"content":"[^"]/.test(raw)) firstToken = performance.now() - started;
        });
        response.on('error', () => settle(null));
        response.on('end', () => {
          const text = raw
            .split('\n\n')
            .filter((frame) => frame.startsWith('data: {"id"'))
            .map((frame) => (JSON.parse(frame.slice(6)) as { choices: { delta?: { content?: string } }[] }).choices[0]?.delta?.content ?? '')
            .join('');
          settle({ firstToken, done: performance.now() - started, text, complete: response.statusCode === 200 && raw.endsWith('data: [DONE]\n\n') });
        });
      },
    );
    request.on('error', () => settle(null));
    request.end(body);
  });
}
