// Judges for the LLM-judged rails' specs: a scripted model that also writes down what each call was asked, and with
// which request parameters (temperature, max_tokens, stop, task).
import { type ChatMessage, type ChatModel, type ChatModelCallOptions, type RailContext, scriptedModel, type ScriptedResponse } from 'rxguardrails';

export interface JudgeCall {
  readonly messages: readonly ChatMessage[];
  readonly options: ChatModelCallOptions;
}

/** A judge answering `answers` in turn (or by a function of the messages), recording every call. */
export function recordingJudge(answers: readonly ScriptedResponse[] | ((messages: readonly ChatMessage[]) => ScriptedResponse), model = 'judge'): { model: ChatModel; calls: JudgeCall[] } {
  const calls: JudgeCall[] = [];
  const scripted = scriptedModel(typeof answers === 'function' ? (messages) => answers(messages) : answers, { model });
  return {
    calls,
    model: {
      provider: scripted.provider,
      model: scripted.model,
      stream: (messages, options = {}) => {
        calls.push({ messages, options });
        return scripted.stream(messages, options);
      },
    },
  };
}

/** A rail context for one window, outside any pipeline. */
export const railContext = (userMessage?: string, messages: readonly ChatMessage[] = []): RailContext =>
  ({ userMessage, messages, batch: { index: 0, text: '', chunks: [], final: true, overlap: 0 }, signal: new AbortController().signal }) as RailContext;
