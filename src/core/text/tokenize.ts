/**
 * Korean-aware tokenisation shared by the lexical space and (later) keyword search.
 * Korean has no reliable spaces between a noun and its particle ("회귀자가", "회귀자를"), so whole
 * words alone miss most matches; character bigrams inside each word catch the shared stem.
 */

/** NFKC + lower case, so full-width forms and case never split a term. */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/** Words: maximal runs of letters or digits (any script). */
export function words(text: string): string[] {
  return normalizeText(text).match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Character n-grams of one word, with `<` `>` marking its edges so prefixes and suffixes count. */
export function charNgrams(word: string, n: number): string[] {
  const marked = `<${word}>`;
  // Without surrogate pairs a character is one UTF-16 unit: slices are the n-grams (the common case, and faster).
  if (!/[\ud800-\udfff]/.test(marked)) {
    const out: string[] = [];
    for (let i = 0; i + n <= marked.length; i++) out.push(marked.slice(i, i + n));
    return out;
  }
  const chars = Array.from(marked);
  const out: string[] = [];
  for (let i = 0; i + n <= chars.length; i++) out.push(chars.slice(i, i + n).join(''));
  return out;
}

/** The lexical features of a text: whole words plus character 2- and 3-grams of each word. */
export function lexicalFeatures(text: string): string[] {
  const out: string[] = [];
  for (const w of words(text)) {
    out.push(`w:${w}`);
    for (const g of charNgrams(w, 2)) out.push(g);
    for (const g of charNgrams(w, 3)) out.push(g);
  }
  return out;
}
