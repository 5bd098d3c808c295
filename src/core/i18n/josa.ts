/**
 * Korean particles (조사) chosen by the sound the preceding word ends with, so composed text reads
 * "사과를", "책을", "서울로", "집으로" instead of showing both forms.
 *
 * What decides: the last letter or digit of the text. Trailing quotes, brackets, punctuation, spaces and
 * symbols such as emoji are skipped (not read aloud), and a trailing parenthetical gloss is ignored when
 * something precedes it, as Korean style does ("하나(HANA)" → decided by 나; "“광마회귀”" → by 귀).
 * - Hangul syllable: final consonant = (code − 0xAC00) % 28 (0 none, 8 ㄹ). Jamo: consonants are read by
 *   their names (기역, 리을 …, all with a final), vowels have none.
 * - Digits by their Korean reading 영 일 이 삼 사 오 육 칠 팔 구 (1, 7, 8 end in ㄹ). Trailing zeros of a
 *   larger number read 십/백/천/만 — also a final that is not ㄹ, like 영, so the last digit decides. "%" reads 퍼센트.
 * - Latin: a single letter, or an all-capital word of at most two letters or without vowels (TV, KBS,
 *   HTML), is read letter by letter; letter names with a final are 엘 엠 엔 알 (L M N R). Other words
 *   follow the Korean loanword spelling (외래어 표기법): -l/-le → ㄹ (Google 구글, Apple 애플); -m, -n,
 *   -ng, -mb, vowel + m/n + e → final (Team 팀, Webtoon 웹툰, King 킹, Game 게임); -ck, -ook, or a short
 *   vowel + p/t/k/c/b → final (Black 블랙, Book 북, Chat 챗, Magic 매직, Web 웹); everything else, notably
 *   -r (Tower 타워), -s, -x, -d and -g (Bed 베드, Dog 도그), takes the forms for no final.
 * - Anything else (Hanja, kana, other scripts, or no letter at all): the forms for no final. They are right
 *   after kana and most foreign readings, and for (으)로 the form 로 is also the one ㄹ takes, so this is
 *   the least often wrong guess.
 */

/** [after a final consonant, after none] pairs; either order may be written. */
type Pairs = '이/가' | '은/는' | '을/를' | '과/와' | '으로/로' | '아/야' | '이나/나' | '이랑/랑' | '이에요/예요' | '이라/라';
type Swap<P> = P extends `${infer A}/${infer B}` ? `${B}/${A}` : never;
export type JosaPair = Pairs | Swap<Pairs>;

function jong(ch: string): number {
  const c = ch.charCodeAt(0) - 0xac00;
  return c >= 0 && c < 11172 ? c % 28 : -1;
}

function latin(w: string): number {
  if (w.length < 2 || (w === w.toUpperCase() && (w.length < 3 || !/[AEIOU]/.test(w))))
    // Names of A…Z by their last syllable: 에이 비 씨 디 이 에프 지 에이치 아이 제이 케이 엘 엠 엔 오 피 큐 알 에스 티 유 브이 더블유 엑스 와이 제트.
    return jong('이비씨디이프지치이이이엘엠엔오피큐알스티유이유스이트'[w.toUpperCase().charCodeAt(w.length - 1) - 65]);
  w = w.toLowerCase();
  return /l$|.le$/.test(w) ? 8 : /(m|n|ng|mb|[aeiou][mn]e)$/.test(w) ? 4 : /(ck|ook|(^|[^aeiou])[aeiou][ptkcb])$/.test(w) ? 1 : 0;
}

/**
 * The final consonant the text ends with when read aloud: 0 none, 8 ㄹ, another index of the 28 Hangul
 * finals otherwise (for Latin words a representative one: 4 ㄴ or 1 ㄱ).
 */
export function finalConsonant(text: string): number {
  const bare = text.replace(/\s*[(（][^()（）]*[)）][^\p{L}\p{N}]*$/u, '');
  const m = /([A-Za-z]+|[\p{L}\p{N}%])[^\p{L}\p{N}%]*$/u.exec(/[\p{L}\p{N}]/u.test(bare) ? bare : text);
  if (!m) return 0;
  const t = m[1];
  if (/^[A-Za-z]/.test(t)) return latin(t);
  const c = t === '%' ? '트' : /\d/.test(t) ? '영일이삼사오육칠팔구'[+t] : t;
  const code = c.charCodeAt(0);
  if (code >= 0x3131 && code <= 0x314e) return c === 'ㄹ' ? 8 : 1;
  return Math.max(0, jong(c));
}

/** The particle alone, in the form `word` takes: particle('서울', '으로/로') → '로'. */
export function particle(word: string, pair: JosaPair): string {
  const [a, b] = pair.split('/');
  const [withFinal, without] = a.length > b.length || (a.length === b.length && '이은을과아'.includes(a)) ? [a, b] : [b, a];
  const f = finalConsonant(word);
  // ㄹ-final words take the short form of (으)로: 서울로, 칼로.
  return f === 0 || (f === 8 && withFinal[0] === '으') ? without : withFinal;
}

/** The word followed by the particle in the right form: josa('책', '을/를') → '책을'. */
export function josa(word: string, pair: JosaPair): string {
  return word + particle(word, pair);
}
