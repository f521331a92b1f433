// rxguardrails/testing: helpers for testing guarded pipelines and rails (marble tests included).
// Never imports a test runner at module top level.

export { createTestScheduler, type DeepEqualAssertion } from './createTestScheduler.js';
export { tokenSource, type TokenListOptions, type TokenMarbleOptions } from './tokenSource.js';
export { fakeRail, type FakeAnswer, type FakeRail, type FakeRailCall, type FakeRailOptions } from './fakeRail.js';
export { scriptedModel, type ScriptedModelOptions, type ScriptedResponse } from '../models/scriptedModel.js';
