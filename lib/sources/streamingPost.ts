// Internal: what the engines' Chat Completions path (fetchOpenAIChat) needs of HTTP: one POST whose answer is read
// as it streams. The platform's fetch gives it anywhere (fetchPost, the default); the server gives Node's own HTTP
// client (lib/node/nodeStreamingPost.ts), which costs a fraction of fetch per request: fetch makes a Request, a
// Response, Headers and web streams (a request body stream teed once, a response body stream fed through a Node
// stream) for every call, about a third of the server's CPU per streamed answer.

/** Sends `body` to `url` with `headers`; settles with the answer once its status and headers have come. */
export type StreamingPost = (url: string, request: StreamingPostRequest) => Promise<StreamingPostAnswer>;

export interface StreamingPostRequest {
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Aborts the request, at any point: the connection is closed, a read in progress rejects. */
  readonly signal: AbortSignal;
}

/**
 * An answer whose body is read on demand: nothing is read from the connection until asked, so a reader that waits
 * lets TCP push back on the server.
 */
export interface StreamingPostAnswer {
  readonly status: number;
  /** The answer's headers by name, as fetch's `Headers.get` gives them. */
  readonly headers: { get(name: string): string | null };
  /** The body's next bytes, or undefined once it has ended; rejects when it fails (a dropped connection). */
  read(): Promise<Uint8Array | undefined>;
  /** Stops reading: the rest of the body is dropped with its connection. */
  cancel(): Promise<void>;
}

/** A {@link StreamingPost} on `fetcher` (the global fetch, looked up per call, by default). */
export function fetchPost(fetcher?: typeof fetch): StreamingPost {
  return async (url, { headers, body, signal }) => {
    const response = await (fetcher ?? globalThis.fetch)(url, { method: 'POST', headers, body, signal });
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    return {
      status: response.status,
      headers: response.headers,
      read: async () => {
        if (response.body === null) return undefined;
        reader ??= response.body.getReader();
        const read = await reader.read();
        return read.done ? undefined : read.value;
      },
      cancel: async () => {
        await (reader ? reader.cancel() : response.body?.cancel());
      },
    };
  };
}

/** The whole body as text (UTF-8); a failure to read it gives its message instead, as the openai SDK does. */
export async function answerText(answer: StreamingPostAnswer): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (let bytes = await answer.read(); bytes !== undefined; bytes = await answer.read()) text += decoder.decode(bytes, { stream: true });
    return text + decoder.decode();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
