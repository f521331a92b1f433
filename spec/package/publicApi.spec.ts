import * as core from 'rxguardrails';
import * as node from 'rxguardrails/node';
import * as server from 'rxguardrails/server';
import * as testing from 'rxguardrails/testing';

// The public surface, listed on purpose: any addition or removal shows up here and in review.
describe('public API', () => {
  it('should export exactly these names from rxguardrails', () => {
    expect(Object.keys(core).sort()).toEqual([
      'AsyncTextIteratorStreamer',
      'BUILT_IN_FLOWS',
      'ConfigError',
      'DemandGate',
      'ExplainInfo',
      'GuardrailError',
      'InvalidItemError',
      'InvalidOptionError',
      'LLMRails',
      'ProviderError',
      'RailViolationError',
      'RailsConfig',
      'StreamingHandler',
      'StreamingNotSupportedError',
      'UsageTracker',
      'addUsage',
      'anthropicModel',
      'blockOnViolation',
      'bufferChunks',
      'checkRail',
      'defineRail',
      'detectSensitiveData',
      'fallback',
      'fromAnthropic',
      'fromOpenAI',
      'fromOpenAIResponses',
      'fromTokens',
      'guard',
      'hedge',
      'injectionDetection',
      'jailbreakDetectionHeuristics',
      'jailbreakDetectionModel',
      'keywordRail',
      'maskSensitiveData',
      'mergeLabelled',
      'openAIModel',
      'regexRail',
      'scriptedModel',
      'selfCheckInput',
      'selfCheckOutput',
    ]);
  });

  it('should export exactly these names from rxguardrails/node', () => {
    expect(Object.keys(node).sort()).toEqual(['RailsConfig']);
  });

  it('should export exactly these names from rxguardrails/server', () => {
    expect(Object.keys(server).sort()).toEqual(['createApp', 'drain']);
  });

  it('should export exactly these names from rxguardrails/testing', () => {
    expect(Object.keys(testing).sort()).toEqual(['createTestScheduler', 'fakeRail', 'scriptedModel', 'tokenSource']);
  });
});
