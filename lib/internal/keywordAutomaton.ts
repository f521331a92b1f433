// Internal: the matcher behind keywordRail's long lists (see keywordMatcher.ts), an Aho–Corasick automaton. A RegExp
// alternation of the keywords tries them one by one at each position of the text: 100,000 keywords took 17 s per
// window, and since V8 compiles a RegExp on its first search, 1.9 M keywords held the first request for 115 s (a
// million are "too large" for V8). The automaton is built once, when the rail is made, in time linear in the
// keywords' total length; a search then costs about the same per character whatever the number of keywords. It
// lives in typed arrays (no object per node): a million keywords are a few million nodes.
//
// It answers what the RegExp alternation (with the u flag) did; spec/rails/keywordAutomaton.spec.ts compares the two
// on random keyword lists. The text is read by code point, case-folded as RegExp folds with the `iu` flags, each run
// of whitespace read as one space; the match reported is the leftmost, and of those starting there, the one whose
// keyword comes first with the longest keywords first.
import { foldCase, isWhitespace } from './characterClasses.js';

/** Where a keyword was found: which one (its position in the list), and the UTF-16 range of the text it covers. */
export interface KeywordMatch {
  readonly keyword: number;
  readonly index: number;
  readonly end: number;
}

export interface KeywordAutomatonOptions {
  readonly caseSensitive: boolean;
  /** Only matches with no letter, digit or `_` (of any script) right before or after count. */
  readonly wordBoundary: boolean;
}

const ROOT = 0;
const SPACE = 0x20;

/** A list of keywords, compiled for searching texts. */
export class KeywordAutomaton {
  /** The UTF-16 unit on the edge into each node. */
  private readonly label: Uint16Array;
  /** Node n's children are the nodes firstChild[n] to firstChild[n + 1] - 1, in order of their labels. */
  private readonly firstChild: Int32Array;
  /** The root's children, by label, for the state every mismatch falls back to. */
  private readonly rootChild: Int32Array;
  /** Aho–Corasick's failure links: the node of the longest proper suffix that is also in the trie. */
  private readonly fail: Int32Array;
  /** The keyword ending at the node (the one that ranks first), or -1. */
  private readonly output: Int32Array;
  /** The nearest node along the failure links with an output, or -1. */
  private readonly nextOutput: Int32Array;
  /** The node's depth: the length, in UTF-16 units of folded text, of the keyword ending there. */
  private readonly depth: Int32Array;
  private readonly maxDepth: number;
  private readonly isWordCharacter: (codePoint: number) => boolean;

  /**
   * @param keywords Non-empty strings with something besides whitespace (the rail checks them).
   */
  constructor(
    private readonly keywords: readonly string[],
    private readonly options: KeywordAutomatonOptions,
  ) {
    // One entry per distinct keyword as it is matched (folded, with its whitespace runs as one space); of keywords
    // that are the same there, the one that ranks first.
    const best = new Map<string, number>();
    keywords.forEach((keyword, position) => {
      const key = this.normalize(keyword);
      const known = best.get(key);
      if (known === undefined || this.ranksBefore(position, known)) best.set(key, position);
    });
    const keys = [...best.keys()].sort();

    // The keys' units in one array, in sorted order: the trie is built level by level, and each level reads them
    // from first to last.
    const offsets = new Int32Array(keys.length + 1);
    const owners = new Int32Array(keys.length);
    keys.forEach((key, position) => {
      offsets[position + 1] = (offsets[position] ?? 0) + key.length;
      owners[position] = best.get(key) ?? -1;
    });
    const units = new Uint16Array(offsets[keys.length] ?? 0);
    keys.forEach((key, position) => {
      for (let index = 0, offset = offsets[position] ?? 0; index < key.length; index++) units[offset + index] = key.charCodeAt(index);
    });
    const unitAt = (key: number, depth: number) => units[(offsets[key] ?? 0) + depth] ?? 0;
    const lengthOf = (key: number) => (offsets[key + 1] ?? 0) - (offsets[key] ?? 0);

    // The trie, breadth first: a node is the range of sorted keys that share its prefix, so its children are the
    // runs of equal units at its depth, numbered one after the other. Children of a node thus come together.
    const nodes = new GrowingNodes();
    nodes.add(0, 0, keys.length, 0);
    let maxDepth = 0;
    for (let node = 0; node < nodes.count; node++) {
      nodes.firstChild[node] = nodes.count;
      const depth = nodes.depth[node] ?? 0;
      let low = nodes.low[node] ?? 0;
      const high = nodes.high[node] ?? 0;
      if (lengthOf(low) === depth) {
        nodes.output[node] = owners[low] ?? -1;
        maxDepth = depth;
        low++;
      }
      while (low < high) {
        const unit = unitAt(low, depth);
        let end = low + 1;
        while (end < high && unitAt(end, depth) === unit) end++;
        nodes.add(unit, low, end, depth + 1);
        low = end;
      }
    }
    const count = nodes.count;
    this.label = nodes.label.slice(0, count);
    this.firstChild = nodes.firstChild.slice(0, count + 1);
    this.firstChild[count] = count;
    this.output = nodes.output.slice(0, count);
    this.depth = nodes.depth.slice(0, count);
    this.maxDepth = maxDepth;
    this.rootChild = new Int32Array(0x10000).fill(-1);
    for (let child = this.firstChild[ROOT] ?? 0; child < (this.firstChild[ROOT + 1] ?? 0); child++) this.rootChild[this.label[child] ?? 0] = child;

    // Failure links, breadth first, so a node's are computed from shallower ones.
    this.fail = new Int32Array(count);
    this.nextOutput = new Int32Array(count).fill(-1);
    for (let node = 0; node < count; node++) {
      for (let child = this.firstChild[node] ?? 0; child < (this.firstChild[node + 1] ?? 0); child++) {
        const fail = node === ROOT ? ROOT : this.step(this.fail[node] ?? ROOT, this.label[child] ?? 0);
        this.fail[child] = fail;
        this.nextOutput[child] = (this.output[fail] ?? -1) >= 0 ? fail : (this.nextOutput[fail] ?? -1);
      }
    }
    const wordCharacter = new RegExp('[\\p{L}\\p{N}_]', options.caseSensitive ? 'u' : 'iu');
    this.isWordCharacter = (codePoint) => wordCharacter.test(String.fromCodePoint(codePoint));
  }

  /** The first match in the text starting at `from` or after (the text before it is only context), or null. */
  find(text: string, from = 0): KeywordMatch | null {
    const { caseSensitive, wordBoundary } = this.options;
    const { rootChild, output, nextOutput } = this;
    // Where each unit the automaton reads came from: the index of its code point in the text, or -1 for the second
    // unit of a surrogate pair. The automaton reads folded text, one space for each run of whitespace.
    const origin = new Int32Array((text.length - from) * 2 + 1);
    let length = 0;
    let node = ROOT;
    let best: { keyword: number; start: number; end: number } | undefined;
    let inWhitespace = false;
    for (let index = from; index < text.length; ) {
      // A match ending here or later starts after the best one: nothing left to find.
      if (best !== undefined && length - this.maxDepth >= best.start) break;
      let codePoint = text.charCodeAt(index);
      let size = 1;
      if (codePoint >= 0xd800 && codePoint <= 0xdbff && index + 1 < text.length) {
        const low = text.charCodeAt(index + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          codePoint = 0x10000 + ((codePoint - 0xd800) << 10) + (low - 0xdc00);
          size = 2;
        }
      }
      const end = index + size;
      if (isWhitespace(codePoint)) {
        index = end;
        if (inWhitespace) continue;
        inWhitespace = true;
        codePoint = SPACE;
      } else {
        inWhitespace = false;
        index = end;
        if (!caseSensitive) codePoint = codePoint < 0x80 ? (codePoint >= 0x41 && codePoint <= 0x5a ? codePoint + 0x20 : codePoint) : foldCase(codePoint);
      }
      origin[length] = end - size;
      if (codePoint > 0xffff) {
        // The first half of a pair: no match ends there.
        node = this.step(node, 0xd800 + ((codePoint - 0x10000) >> 10));
        origin[++length] = -1;
        codePoint = 0xdc00 + ((codePoint - 0x10000) & 0x3ff);
      }
      // Mostly the automaton is at the root, reading a character no keyword starts with.
      node = node === ROOT ? Math.max(rootChild[codePoint] ?? -1, ROOT) : this.step(node, codePoint);
      length++;
      if (node === ROOT) continue;
      for (let found = (output[node] ?? -1) >= 0 ? node : (nextOutput[node] ?? -1); found >= 0; found = nextOutput[found] ?? -1) {
        const start = length - (this.depth[found] ?? 0);
        const keyword = this.output[found] ?? -1;
        if (best !== undefined && (start > best.start || (start === best.start && !this.ranksBefore(keyword, best.keyword)))) continue;
        const matchIndex = origin[start] ?? -1;
        if (matchIndex < 0) continue; // it would start on the second half of a surrogate pair
        if (wordBoundary && (this.isWordCharacterBefore(text, matchIndex) || this.isWordCharacterAt(text, end))) continue;
        best = { keyword, start, end };
      }
    }
    return best === undefined ? null : { keyword: best.keyword, index: origin[best.start] ?? 0, end: best.end };
  }

  /** The goto function: the node after reading `unit` in `node`, following failure links. */
  private step(node: number, unit: number): number {
    for (let state = node; ; state = this.fail[state] ?? ROOT) {
      if (state === ROOT) return Math.max(this.rootChild[unit] ?? -1, ROOT);
      let low = this.firstChild[state] ?? 0;
      let high = (this.firstChild[state + 1] ?? 0) - 1;
      while (low <= high) {
        const middle = (low + high) >> 1;
        const label = this.label[middle] ?? 0;
        if (label === unit) return middle;
        if (label < unit) low = middle + 1;
        else high = middle - 1;
      }
    }
  }

  private isWordCharacterBefore(text: string, index: number): boolean {
    if (index === 0) return false;
    const pair = index >= 2 && (text.charCodeAt(index - 1) & 0xfc00) === 0xdc00 && (text.charCodeAt(index - 2) & 0xfc00) === 0xd800;
    return this.isWordCharacter(text.codePointAt(index - (pair ? 2 : 1)) ?? 0);
  }

  private isWordCharacterAt(text: string, index: number): boolean {
    return index < text.length && this.isWordCharacter(text.codePointAt(index) ?? 0);
  }

  /** Whether keyword `a` is tried before keyword `b`: longer first, then in list order. */
  private ranksBefore(a: number, b: number): boolean {
    const difference = (this.keywords[a]?.length ?? 0) - (this.keywords[b]?.length ?? 0);
    return difference > 0 || (difference === 0 && a < b);
  }

  /** A keyword as the automaton reads it: trimmed, each whitespace run one space, case-folded unless asked not to. */
  private normalize(keyword: string): string {
    // Most keywords are one ASCII word, whose folding is toLowerCase.
    if (/^[\x21-\x7e]+$/.test(keyword)) return this.options.caseSensitive ? keyword : keyword.toLowerCase();
    const text = keyword.trim().split(/\s+/).join(' ');
    if (this.options.caseSensitive) return text;
    let folded = '';
    for (const character of text) folded += String.fromCodePoint(foldCase(character.codePointAt(0) ?? 0));
    return folded;
  }
}

/** The trie's arrays while it is built, grown as nodes are added. */
class GrowingNodes {
  count = 0;
  label = new Uint16Array(1024);
  firstChild = new Int32Array(1025);
  output = new Int32Array(1024);
  depth = new Int32Array(1024);
  low = new Int32Array(1024);
  high = new Int32Array(1024);

  add(label: number, low: number, high: number, depth: number): void {
    if (this.count === this.label.length) this.grow();
    this.label[this.count] = label;
    this.output[this.count] = -1;
    this.depth[this.count] = depth;
    this.low[this.count] = low;
    this.high[this.count] = high;
    this.count++;
  }

  private grow(): void {
    const size = this.label.length * 2;
    const grown = <T extends Uint16Array | Int32Array>(array: T, length: number): T => {
      const copy = new (array.constructor as new (length: number) => T)(length);
      copy.set(array);
      return copy;
    };
    this.label = grown(this.label, size);
    this.firstChild = grown(this.firstChild, size + 1);
    this.output = grown(this.output, size);
    this.depth = grown(this.depth, size);
    this.low = grown(this.low, size);
    this.high = grown(this.high, size);
  }
}
