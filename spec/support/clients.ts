// Real SDK clients pointed at a replay server (explicit key and baseURL, no retries), and a jest lifecycle for one.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { type ReplayServer, startReplayServer } from './replayServer.js';

export function openAIClient(server: ReplayServer): OpenAI {
  return new OpenAI({ apiKey: 'sk-test', baseURL: server.openAIBaseURL, maxRetries: 0 });
}

export function anthropicClient(server: ReplayServer): Anthropic {
  return new Anthropic({ apiKey: 'sk-ant-test', baseURL: server.anthropicBaseURL, maxRetries: 0 });
}

/** Starts a replay server before the tests of the file and closes it after them. */
export function useReplayServer(): { readonly server: ReplayServer } {
  const holder = {} as { server: ReplayServer };
  beforeAll(async () => {
    holder.server = await startReplayServer();
  });
  afterAll(async () => {
    await holder.server.close();
  });
  return holder;
}

/** The text of a transcript, read independently of the sources: every JSON data payload, through `pick`. */
export function transcriptText(transcript: Buffer, pick: (payload: Record<string, unknown>) => string | undefined): string {
  return transcript
    .toString('utf8')
    .split('\n')
    .filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]')
    .map((line) => pick(JSON.parse(line.slice(6)) as Record<string, unknown>) ?? '')
    .join('');
}

export const user = (content: string) => [{ role: 'user' as const, content }];
