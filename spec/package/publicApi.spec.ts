import * as core from 'rxguardrails';
import * as testing from 'rxguardrails/testing';

// The public surface, listed on purpose: any addition or removal shows up here and in review.
describe('public API', () => {
  it('should export exactly these names from rxguardrails', () => {
    expect(Object.keys(core).sort()).toEqual([
      'GuardrailError',
      'InvalidItemError',
      'InvalidOptionError',
      'RailViolationError',
      'blockOnViolation',
      'bufferChunks',
      'checkRail',
      'defineRail',
      'guard',
      'keywordRail',
      'regexRail',
    ]);
  });

  it('should export exactly these names from rxguardrails/testing', () => {
    expect(Object.keys(testing).sort()).toEqual(['createTestScheduler', 'fakeRail', 'tokenSource']);
  });
});
