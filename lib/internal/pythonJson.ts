// Serialises JSON the way Python's json.dumps does with its defaults (", " and ": " separators, ensure_ascii), so
// payloads we emit are byte-identical to NeMo Guardrails' for the same content.

export function pythonJsonDumps(value: unknown): string {
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`pythonJsonDumps: ${value} is not valid JSON`);
    return JSON.stringify(value);
  }
  if (typeof value === 'string') return asciiString(value);
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value).filter(([, entry]) => entry !== undefined);
    return `{${entries.map(([key, entry]) => `${asciiString(key)}: ${pythonJsonDumps(entry)}`).join(', ')}}`;
  }
  throw new TypeError(`pythonJsonDumps: a ${typeof value} is not valid JSON`);
}

/** JSON.stringify escapes quotes, backslashes and control characters as Python does; ensure_ascii adds the rest. */
function asciiString(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
