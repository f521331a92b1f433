// rxguardrails/langchain: the LangChain.js bridge. Any LangChain chat model (Gemini, Bedrock, Ollama, Mistral, ...)
// as a token source (fromLangChain) or as a ChatModel for LLMRails and the judged rails (langChainModel). Behind its
// own entry so the core never meets LangChain; `@langchain/core` is an optional peer, typed structurally and never
// imported, so the bridge works with the app's copy of it, whichever that is.

export { fromLangChain, type FromLangChainOptions, type LangChainStreamInput } from './fromLangChain.js';
export { langChainModel, type LangChainModelOptions } from './langChainModel.js';
export type {
  LangChainCallOptions,
  LangChainCallParameters,
  LangChainChatModel,
  LangChainChunk,
  LangChainMessageLike,
  LangChainStream,
  LangChainUsageMetadata,
} from './langChainTypes.js';
