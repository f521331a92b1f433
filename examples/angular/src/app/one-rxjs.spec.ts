// rxguardrails is linked from the repository, whose node_modules has an rxjs of its own: the library must still run
// on this app's rxjs (vitest.config.ts for tests, tsconfig.app.json's paths for ng build), or a TestScheduler would
// drive one copy while the guard ran on the other.
import { scriptedModel } from 'rxguardrails';
import { tokenSource } from 'rxguardrails/testing';
import { Observable } from 'rxjs';

describe('the rxjs the library runs on', () => {
  it("should be this app's rxjs, in the core entry and in the test kit", () => {
    expect(scriptedModel(['Hi']).stream([])).toBeInstanceOf(Observable);
    expect(tokenSource(['Hi'])).toBeInstanceOf(Observable);
  });
});
