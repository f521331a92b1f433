import { lastValueFrom, take, toArray } from 'rxjs';
import { AsyncTextIteratorStreamer, guard, keywordRail } from 'rxguardrails';
import { collect } from '../support/collect.js';

describe('AsyncTextIteratorStreamer', () => {
  it('should end the async iteration when end() is called (NeMo never enqueues its stop signal)', async () => {
    const streamer = new AsyncTextIteratorStreamer();
    const received: string[] = [];
    const reading = (async () => {
      for await (const text of streamer) received.push(text);
    })();
    streamer.put('Hello');
    streamer.put('');
    streamer.put(' world');
    streamer.end();
    await reading;
    expect(received).toEqual(['Hello', ' world']);
  });

  it('should give every consumer the whole text, late ones included', async () => {
    const streamer = new AsyncTextIteratorStreamer();
    const early = lastValueFrom(streamer.asObservable().pipe(toArray()));
    streamer.put('a');
    const late = lastValueFrom(streamer.asObservable().pipe(toArray()));
    streamer.put('b');
    streamer.end();
    expect(await early).toEqual(['a', 'b']);
    expect(await late).toEqual(['a', 'b']);
  });

  it('should ignore text pushed after the end, and a second end', async () => {
    const streamer = new AsyncTextIteratorStreamer();
    streamer.put('x');
    streamer.end();
    streamer.put('too late');
    streamer.end();
    streamer.error(new Error('also too late'));
    expect(await lastValueFrom(streamer.asObservable().pipe(toArray()))).toEqual(['x']);
    expect(streamer.isEnded).toBe(true);
  });

  it('should end its Observable with the error passed to error(), after the text so far', async () => {
    const streamer = new AsyncTextIteratorStreamer();
    const failure = new Error('CUDA out of memory');
    streamer.put('partial');
    streamer.error(failure);
    const outcome = await collect(streamer.asObservable());
    expect(outcome.items).toEqual(['partial']);
    expect(outcome.error).toBe(failure);
  });

  it('should end its async iteration with the error passed to error(), after the text so far', async () => {
    const streamer = new AsyncTextIteratorStreamer();
    const failure = new Error('CUDA out of memory');
    streamer.put('partial');
    streamer.error(failure);
    const received: string[] = [];
    await expect(
      (async () => {
        for await (const text of streamer) received.push(text);
      })(),
    ).rejects.toBe(failure);
    expect(received).toEqual(['partial']);
  });

  it('should take the Hugging Face hook onFinalizedText(text, streamEnd), ending on streamEnd', async () => {
    const streamer = new AsyncTextIteratorStreamer();
    streamer.onFinalizedText('Hi ');
    streamer.onFinalizedText('there', true);
    expect(await lastValueFrom(streamer.asObservable().pipe(toArray()))).toEqual(['Hi ', 'there']);
  });

  it('should hand out bound callbacks, as a transformers.js callback_function needs', async () => {
    const streamer = new AsyncTextIteratorStreamer();
    const { put, end } = streamer;
    put('a');
    end();
    expect(await lastValueFrom(streamer.asObservable().pipe(toArray()))).toEqual(['a']);
  });

  it('should abort its signal when every consumer left before the end, so generation can stop', async () => {
    const streamer = new AsyncTextIteratorStreamer();
    const first = streamer.asObservable().subscribe();
    const taken = lastValueFrom(streamer.asObservable().pipe(take(1)));
    streamer.put('one');
    await taken;
    expect(streamer.signal.aborted).toBe(false);
    first.unsubscribe();
    expect(streamer.signal.aborted).toBe(true);
  });

  it('should not abort its signal when consumers leave after the end', async () => {
    const streamer = new AsyncTextIteratorStreamer();
    const reading = lastValueFrom(streamer.asObservable().pipe(toArray()));
    streamer.put('x');
    streamer.end();
    await reading;
    expect(streamer.signal.aborted).toBe(false);
  });

  it('should stop a generation loop through guard and the signal', async () => {
    const streamer = new AsyncTextIteratorStreamer();
    const produced: string[] = [];
    // A local model's generation loop, as transformers.js runs it: a callback per token, a stop check per step.
    const generate = async () => {
      for (const token of ['My ', 'pin ', 'is ', '1234', ' and ', 'more ', 'text']) {
        if (streamer.signal.aborted) break;
        await Promise.resolve(); // one step of the model
        produced.push(token);
        streamer.put(token);
      }
      streamer.end();
    };
    const guarded = collect(streamer.asObservable().pipe(guard([keywordRail(['pin is'])], { chunkSize: 2, contextSize: 1 })));
    await generate();
    const outcome = await guarded;
    expect(outcome.items).toEqual(['My ', 'pin ', 'is ']);
    expect(produced).toEqual(['My ', 'pin ', 'is ']);
  });
});
