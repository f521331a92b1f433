import { defineRail, InvalidOptionError, type OutputRail } from 'rxguardrails';

describe('defineRail', () => {
  it('should make a frozen rail from a name and a check', () => {
    const check: OutputRail['check'] = (text) => !text.includes('x');
    const rail = defineRail('no x', check);
    expect(rail).toEqual({ name: 'no x', check });
    expect(Object.isFrozen(rail)).toBe(true);
  });

  it('should validate and copy an existing rail object', () => {
    const check: OutputRail['check'] = () => true;
    expect(defineRail({ name: 'copy', check })).toEqual({ name: 'copy', check });
    expect(defineRail({ name: 'masking', check, rewrites: true })).toEqual({ name: 'masking', check, rewrites: true });
  });

  it.each([
    [() => defineRail('', () => true), 'defineRail: the rail has no name (got "")'],
    [() => defineRail(undefined as never, () => true), 'defineRail: the rail has no name (got undefined)'],
    [() => defineRail('named', 'not a function' as never), "defineRail: rail 'named' (the rail) has no check function, got \"not a function\""],
    [() => defineRail({ name: 'x', check: () => true, kind: 'output' } as never), "defineRail: unknown option 'kind'; known options: name, check, rewrites"],
    [() => defineRail({ name: 'x', check: () => true, rewrites: 'yes' } as never), 'defineRail: rewrites must be true or false, got "yes"'],
  ])('should throw InvalidOptionError for a bad rail (%#)', (create, message) => {
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow(message);
  });
});
