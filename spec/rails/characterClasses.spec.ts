// The keyword and regex rails read whitespace and letter case as RegExp does, through lib/internal/characterClasses.ts;
// these compare it with RegExp over every code point concerned, so a Node.js with newer Unicode data shows here.
import { foldCase, isWhitespace } from '../../lib/internal/characterClasses.js';

const codePoints = (last: number) => Array.from({ length: last + 1 }, (_, codePoint) => codePoint).filter((codePoint) => codePoint < 0xd800 || codePoint > 0xdfff);

describe('isWhitespace', () => {
  it('should agree with \\s on every code point', () => {
    const disagreements = codePoints(0x10ffff).filter((codePoint) => isWhitespace(codePoint) !== /^\s$/u.test(String.fromCodePoint(codePoint)));
    expect(disagreements).toEqual([]);
  });
});

describe('foldCase', () => {
  // Every code point with a case mapping or a canonical composition, and what they fold to.
  const cased = codePoints(0x10ffff).filter((codePoint) => {
    const character = String.fromCodePoint(codePoint);
    return character.toLowerCase() !== character || character.toUpperCase() !== character || character.normalize('NFC') !== character;
  });
  const involved = [...new Set([...cased, ...cased.map(foldCase)])];
  const escape = (codePoint: number) => `\\u{${codePoint.toString(16)}}`;

  it('should fold a code point to one RegExp treats as equal with the iu flags, and fold that to itself', () => {
    const wrong = involved.filter((codePoint) => {
      const folded = foldCase(codePoint);
      return !new RegExp(`^${escape(folded)}$`, 'iu').test(String.fromCodePoint(codePoint)) || foldCase(folded) !== folded;
    });
    expect(wrong).toEqual([]);
  });

  it('should fold every code point RegExp treats as equal to the same one', () => {
    const all = involved.map((codePoint) => String.fromCodePoint(codePoint)).join('\n');
    const split: string[] = [];
    for (const codePoint of involved) {
      for (const match of all.matchAll(new RegExp(escape(codePoint), 'giu'))) {
        const other = match[0].codePointAt(0) ?? 0;
        if (foldCase(other) !== foldCase(codePoint)) split.push(`${codePoint.toString(16)}~${other.toString(16)}`);
      }
    }
    expect(split).toEqual([]);
  });

  it('should keep what RegExp keeps apart: dotless ı from i, İ from i, ß from ss', () => {
    expect(foldCase(0x131)).not.toBe(foldCase(0x69));
    expect(foldCase(0x130)).not.toBe(foldCase(0x69));
    expect([foldCase(0xdf), foldCase(0x1e9e)]).toEqual([0xdf, 0xdf]);
    expect([foldCase(0x17f), foldCase(0x53), foldCase(0x212a), foldCase(0x4b)]).toEqual([0x73, 0x73, 0x6b, 0x6b]);
  });
});
