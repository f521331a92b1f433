import * as core from 'rxguardrails';
import * as testing from 'rxguardrails/testing';

// The public surface, listed on purpose: any addition or removal shows up here and in review.
describe('public API', () => {
  it('should export exactly these names from rxguardrails', () => {
    expect(Object.keys(core).sort()).toEqual([
      'AsyncTextIteratorStreamer',
      'ExplainInfo',
      'GuardrailError',
      'InvalidItemError',
      'InvalidOptionError',
      'ProviderError',
      'RailViolationError',
      'UsageTracker',
      'addUsage',
      'anthropicModel',
      'blockOnViolation',
      'bufferChunks',
      'checkRail',
      'defineRail',
      'fallback',
      'fromAnthropic',
      'fromOpenAI',
      'fromOpenAIResponses',
      'fromTokens',
      'guard',
      'hedge',
      'keywordRail',
      'mergeLabelled',
      'openAIModel',
      'regexRail',
      'scriptedModel',
    ]);
  });

  it('should export exactly these names from rxguardrails/testing', () => {
    expect(Object.keys(testing).sort()).toEqual(['createTestScheduler', 'fakeRail', 'scriptedModel', 'tokenSource']);
  });
});
