// Internal: how the package recognises its own classes across copies of itself. The ESM and CommonJS builds (or
// two versions in one bundle) each have their own class objects, so `instanceof` fails where they meet; a
// `Symbol.for` key is the same in every copy. Errors carry theirs per instance (see GuardrailError); the other
// classes carry theirs on the prototype, set once here.

/** Marks every instance of `type` (and of its subclasses) with the brand `rxguardrails.<name>`. */
export function brand(type: { readonly prototype: object }, name: string): void {
  Object.defineProperty(type.prototype, brandKey(name), { value: true });
}

/** Whether `value` is an instance of the class branded `name`, from any copy of the package. */
export function hasBrand(value: unknown, name: string): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brandKey(name)] === true;
}

function brandKey(name: string): symbol {
  return Symbol.for(`rxguardrails.${name}`);
}
