import { lastValueFrom, toArray } from 'rxjs';
import { InvalidItemError, StreamingHandler } from 'rxguardrails';

/** Everything an async iteration of the handler gives until it ends. */
async function iterate(handler: StreamingHandler): Promise<string[]> {
  const chunks: string[] = [];
  for await (const chunk of handler) chunks.push(chunk);
  return chunks;
}

describe('StreamingHandler', () => {
  it('should hand out chunks to every consumer, the empty string included', async () => {
    const handler = new StreamingHandler();
    const iterated = iterate(handler);
    const observed = lastValueFrom(handler.asObservable().pipe(toArray()));
    handler.pushChunk('Hello ');
    handler.pushChunk('');
    handler.pushChunk('there!');
    handler.pushChunk(null);
    expect(await iterated).toEqual(['Hello ', '', 'there!']);
    expect(await observed).toEqual(['Hello ', '', 'there!']);
  });

  it('should end on null and ignore chunks pushed after the end', async () => {
    const handler = new StreamingHandler();
    const iterated = iterate(handler);
    handler.pushChunk('Hello ');
    handler.pushChunk(null);
    handler.pushChunk('after the end');
    expect(await iterated).toEqual(['Hello ']);
    expect(handler.isFinished).toBe(true);
    expect(handler.completion).toBe('Hello ');
  });

  it('should keep the whole completion, and resolve wait() with it', async () => {
    const handler = new StreamingHandler();
    handler.pushChunk('Hello ');
    handler.pushChunk('');
    handler.pushChunk('there!');
    handler.pushChunk(null);
    expect(handler.completion).toBe('Hello there!');
    expect(await handler.wait()).toBe('Hello there!');
  });

  it('should be subscribable directly', () => {
    const handler = new StreamingHandler();
    const seen: string[] = [];
    handler.subscribe({ next: (chunk) => seen.push(chunk) });
    handler.pushChunk('a');
    handler.finish();
    expect(seen).toEqual(['a']);
  });

  describe('on error', () => {
    const failed = () => {
      const handler = new StreamingHandler();
      handler.pushChunk('partial');
      handler.error(new Error('Blocked by self check output rails.'));
      return handler;
    };

    it('should reject wait() with the error', async () => {
      await expect(failed().wait()).rejects.toThrow(new Error('Blocked by self check output rails.'));
    });

    it('should end an async iteration with the error', async () => {
      await expect(iterate(failed())).rejects.toThrow(new Error('Blocked by self check output rails.'));
    });
  });

  it('should print chunks in green without newlines when enablePrint is set', () => {
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const handler = new StreamingHandler({ enablePrint: true });
      handler.pushChunk('Hi');
      expect(write).toHaveBeenCalledWith('\u001b[92mHi\u001b[0m');
    } finally {
      write.mockRestore();
    }
  });

  it('should reject chunks that are not text, as NeMo v0.21 does', () => {
    const push = () => new StreamingHandler().pushChunk(42 as never);
    expect(push).toThrow(InvalidItemError);
    expect(push).toThrow('StreamingHandler.pushChunk expects string items, but item 0 is a number (42).');
  });
});
