import * as core from 'rxguardrails';
import * as aiSdk from 'rxguardrails/ai-sdk';
import * as detectors from 'rxguardrails/detectors';
import * as judges from 'rxguardrails/judges';
import * as langchain from 'rxguardrails/langchain';
import * as node from 'rxguardrails/node';
import * as otel from 'rxguardrails/otel';
import * as regex from 'rxguardrails/regex';
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
      'fallback',
      'fromAnthropic',
      'fromGuardrailsServer',
      'fromOpenAI',
      'fromOpenAIResponses',
      'fromTokens',
      'guard',
      'hedge',
      'keywordRail',
      'mergeLabelled',
      'openAIModel',
      'scriptedModel',
    ]);
  });

  it('should export exactly these names from rxguardrails/regex', () => {
    expect(Object.keys(regex).sort()).toEqual(['regexRail']);
  });

  it('should export exactly these names from rxguardrails/judges', () => {
    expect(Object.keys(judges).sort()).toEqual(['selfCheckInput', 'selfCheckOutput']);
  });

  it('should export exactly these names from rxguardrails/detectors', () => {
    expect(Object.keys(detectors).sort()).toEqual(['detectSensitiveData', 'injectionDetection', 'jailbreakDetectionHeuristics', 'jailbreakDetectionModel', 'maskSensitiveData', 'maskSensitiveDataRail']);
  });

  it('should export exactly these names from rxguardrails/ai-sdk', () => {
    expect(Object.keys(aiSdk).sort()).toEqual(['guardTransform', 'guardrailsMiddleware']);
  });

  it('should export exactly these names from rxguardrails/langchain', () => {
    expect(Object.keys(langchain).sort()).toEqual(['fromLangChain', 'langChainModel']);
  });

  it('should export exactly these names from rxguardrails/otel', () => {
    expect(Object.keys(otel).sort()).toEqual(['openTelemetry']);
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
