import { lastValueFrom, toArray } from 'rxjs';
import { InvalidItemError, StreamingHandler } from 'rxguardrails';

describe('StreamingHandler', () => {
  it('should hand out chunks to every consumer, the empty string included, and end on null', async () => {
    const handler = new StreamingHandler();
    const iterated = (async () => {
      const chunks: string[] = [];
      for await (const chunk of handler) chunks.push(chunk);
      return chunks;
    })();
    const observed = lastValueFrom(handler.asObservable().pipe(toArray()));
    handler.pushChunk('Hello ');
    handler.pushChunk('');
    handler.pushChunk('there!');
    handler.pushChunk(null);
    handler.pushChunk('after the end');
    expect(await iterated).toEqual(['Hello ', '', 'there!']);
    expect(await observed).toEqual(['Hello ', '', 'there!']);
    expect(handler.completion).toBe('Hello there!');
    expect(await handler.wait()).toBe('Hello there!');
    expect(handler.isFinished).toBe(true);
  });

  it('should be subscribable directly', () => {
    const handler = new StreamingHandler();
    const seen: string[] = [];
    handler.subscribe({ next: (chunk) => seen.push(chunk) });
    handler.pushChunk('a');
    handler.finish();
    expect(seen).toEqual(['a']);
  });

  it('should pass an error to consumers and to wait()', async () => {
    const handler = new StreamingHandler();
    handler.pushChunk('partial');
    handler.error(new Error('Blocked by self check output rails.'));
    await expect(handler.wait()).rejects.toThrow('Blocked by self check output rails.');
    await expect(
      (async () => {
        for await (const _ of handler) void _;
      })(),
    ).rejects.toThrow('Blocked by self check output rails.');
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
    expect(() => new StreamingHandler().pushChunk(42 as never)).toThrow(InvalidItemError);
  });
});
