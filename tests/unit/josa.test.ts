import { describe, it, expect } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot } from './helpers/paths.ts';
import { finalConsonant, josa, particle, type JosaPair } from '../../src/core/i18n/josa.ts';
import { ko } from '../../src/ui/strings.ko.ts';
import { WIDGET_STRINGS } from '../../src/widget/strings.ts';

/** Each case: word → the particles it takes for 이/가, 을/를, 은/는, 와/과, (으)로. */
function forms(word: string): string {
  return (['이/가', '을/를', '은/는', '와/과', '으로/로'] as const).map((p) => particle(word, p)).join(' ');
}
const VOWEL = '가 를 는 와 로';
const CONSONANT = '이 을 은 과 으로';
const RIEUL = '이 을 은 과 로';

describe('josa: Hangul', () => {
  it('chooses by the final consonant of the last syllable', () => {
    expect(josa('사과', '을/를')).toBe('사과를');
    expect(josa('책', '을/를')).toBe('책을');
    expect(josa('서울', '으로/로')).toBe('서울로');
    expect(josa('집', '으로/로')).toBe('집으로');
    expect(josa('바다', '으로/로')).toBe('바다로');
    expect(josa('칼', '으로/로')).toBe('칼로');
    expect(josa('장르', '이/가')).toBe('장르가');
    expect(josa('그림체', '이/가')).toBe('그림체가');
    expect(josa('줄거리 키워드', '이/가')).toBe('줄거리 키워드가');
    expect(josa('채색과 질감', '이/가')).toBe('채색과 질감이');
    expect(josa('취향이 비슷한 독자', '이/가')).toBe('취향이 비슷한 독자가');
    expect(josa('다음에 읽은 작품', '이/가')).toBe('다음에 읽은 작품이');
    for (const w of ['사과', '바다', '나무', '개', '고양이', '스토리']) expect(forms(w), w).toBe(VOWEL);
    for (const w of ['책', '집', '밤', '강', '밖', '흙', '닭']) expect(forms(w), w).toBe(CONSONANT);
    for (const w of ['서울', '칼', '물', '하늘', '날']) expect(forms(w), w).toBe(RIEUL);
  });

  it('accepts either order of a pair and the other pairs', () => {
    expect(josa('책', '과/와')).toBe('책과');
    expect(josa('사과', '과/와')).toBe('사과와');
    expect(josa('책', '를/을')).toBe('책을');
    expect(josa('서울', '로/으로')).toBe('서울로');
    expect(josa('민준', '아/야')).toBe('민준아');
    expect(josa('지우', '아/야')).toBe('지우야');
    expect(josa('책', '이나/나')).toBe('책이나');
    expect(josa('사과', '이나/나')).toBe('사과나');
    expect(josa('책', '이랑/랑')).toBe('책이랑');
    expect(josa('책', '이에요/예요')).toBe('책이에요');
    expect(josa('사과', '이에요/예요')).toBe('사과예요');
    expect(josa('물', '이라/라')).toBe('물이라');
  });

  it('reports the final consonant: 0 none, 8 ㄹ', () => {
    expect(finalConsonant('사과')).toBe(0);
    expect(finalConsonant('서울')).toBe(8);
    expect(finalConsonant('책')).toBe(1);
    expect(finalConsonant('밤')).toBe(16);
  });

  it('skips trailing quotes, brackets, punctuation, spaces and emoji', () => {
    expect(josa('“광마회귀”', '이/가')).toBe('“광마회귀”가');
    expect(josa('“나 혼자만 레벨업”', '와/과')).toBe('“나 혼자만 레벨업”과');
    expect(josa('‘신의 탑’', '을/를')).toBe('‘신의 탑’을');
    expect(josa('"이두나!"', '와/과')).toBe('"이두나!"와');
    expect(josa('역전! 야매요리 ', '은/는')).toBe('역전! 야매요리 는');
    expect(josa('「귀멸의 칼날」', '으로/로')).toBe('「귀멸의 칼날」로');
    expect(josa('오늘도 사랑스럽개…', '이/가')).toBe('오늘도 사랑스럽개…가');
    expect(particle('화산귀환 🔥', '이/가')).toBe('이');
    expect(particle('[완결] 신령', '을/를')).toBe('을');
  });

  it('decides by the word before a trailing parenthetical gloss', () => {
    expect(particle('하나(HANA)', '이/가')).toBe('가');
    expect(particle('탈(TAL)', '이/가')).toBe('이');
    expect(particle('“데드데이즈(DEAD DAYS)”', '을/를')).toBe('를');
    expect(particle('광마회귀 (완결)', '와/과')).toBe('와');
    // Nothing before the brackets: what is inside decides.
    expect(particle('(완결)', '이/가')).toBe('이');
  });

  it('reads consonant and vowel jamo', () => {
    expect(particle('ㅋㅋ', '이/가')).toBe('이');
    expect(particle('ㄹ', '으로/로')).toBe('로');
    expect(particle('ㅏ', '이/가')).toBe('가');
  });
});

describe('josa: digits by their Korean reading', () => {
  it('영 일 이 삼 사 오 육 칠 팔 구', () => {
    const subject = '이 이 가 이 가 가 이 이 이 가'.split(' ');
    const direction = '으로 로 로 으로 로 로 으로 로 로 로'.split(' ');
    for (let d = 0; d < 10; d++) {
      expect(particle(String(d), '이/가'), String(d)).toBe(subject[d]);
      expect(particle(String(d), '으로/로'), String(d)).toBe(direction[d]);
    }
    expect(josa('1', '으로/로')).toBe('1로');
    expect(josa('3', '으로/로')).toBe('3으로');
    expect(josa('2', '이/가')).toBe('2가');
  });

  it('numbers end with their last digit (10 십, 100 백, 2018 이천십팔)', () => {
    expect(josa('10', '을/를')).toBe('10을');
    expect(josa('100', '으로/로')).toBe('100으로');
    expect(josa('2018', '으로/로')).toBe('2018로');
    expect(josa('시즌1', '이/가')).toBe('시즌1이');
    expect(josa('시즌 1~2', '이/가')).toBe('시즌 1~2가');
    expect(josa('3.5', '이/가')).toBe('3.5가');
    expect(josa('D-3', '이/가')).toBe('D-3이');
    expect(josa('D-2', '으로/로')).toBe('D-2로');
    expect(josa('D-7', '으로/로')).toBe('D-7로');
    expect(josa('라일락 200%', '이/가')).toBe('라일락 200%가');
  });
});

describe('josa: Latin letters and words', () => {
  it('reads single letters and short or vowelless capitals by their names (엘 엠 엔 알 have a final)', () => {
    for (const w of ['L', 'R', 'l', 'HTML', 'SNL', 'BL']) expect(forms(w), w).toBe(RIEUL);
    for (const w of ['M', 'N', 'n']) expect(forms(w), w).toBe(CONSONANT);
    for (const w of ['A', 'B', 'C', 'D', 'E', 'K', 'P', 'S', 'T', 'X', 'Z', 'x', 'TV', 'AI', 'KBS', 'MBC', 'OK']) expect(forms(w), w).toBe(VOWEL);
    expect(josa('여중생A', '이/가')).toBe('여중생A가');
    expect(josa('프로젝트 X', '이/가')).toBe('프로젝트 X가');
    expect(josa('3P', '을/를')).toBe('3P를');
    expect(josa('요리GO', '와/과')).toBe('요리GO와');
    expect(josa('Type-R', '으로/로')).toBe('Type-R로');
    expect(josa('3D', '으로/로')).toBe('3D로');
  });

  it('reads words by the loanword spelling of their ending', () => {
    for (const w of ['Google', 'Apple', 'Title', 'Marvel', 'Hall', 'Girl', 'Historical']) expect(forms(w), w).toBe(RIEUL);
    for (const w of ['Webtoon', 'Team', 'King', 'Action', 'Line', 'Game', 'iPhone', 'Instagram', 'Spider-Man', 'Solo Leveling']) expect(forms(w), w).toBe(CONSONANT);
    for (const w of ['Web', 'Black', 'Book', 'Facebook', 'Chat', 'Robot', 'Magic', 'TikTok', 'Hip-hop', 'Up']) expect(forms(w), w).toBe(CONSONANT);
    for (const w of ['Kakao', 'Naver', 'Tower', 'Computer', 'Romance', 'Fantasy', 'Netflix', 'YouTube', 'News', 'Dog', 'Bed', 'Boat', 'Desk', 'Pink', 'Dark', 'Ho!', 'NoNameD', 'DICE'])
      expect(forms(w), w).toBe(VOWEL);
    expect(josa('“Tower of God”', '이/가')).toBe('“Tower of God”가');
    expect(josa('Webtoon', '으로/로')).toBe('Webtoon으로');
    expect(josa('Google', '으로/로')).toBe('Google로');
  });
});

describe('josa: anything else', () => {
  it('takes the forms for no final consonant (Hanja, kana, emoji only, empty)', () => {
    for (const w of ['天', 'ナルト', '🔥', '', '…', 'Café']) expect(forms(w), JSON.stringify(w)).toBe(VOWEL);
  });
});

// The class of bug this module replaces: a particle written with its alternative in brackets.
const ALTERNATIVE = /\((?:이|가|을|를|은|는|와|과|으|아|야)\)/;

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(p)));
    else if (/^strings.*\.ts$/.test(e.name) || e.name.endsWith('.svelte')) out.push(p);
  }
  return out;
}

describe('no text composes a particle as “X(Y)”', () => {
  it('the string tables and components contain no 와(과), 이(가), 을(를), 은(는), (으)로 …', async () => {
    const files = [...(await sources(path.join(repoRoot, 'src'))), ...(await sources(path.join(repoRoot, 'workers')).catch(() => []))];
    const names = files.map((f) => path.relative(repoRoot, f));
    expect(names).toContain(path.join('src', 'ui', 'strings.ko.ts'));
    expect(names).toContain(path.join('src', 'widget', 'strings.ts'));
    const bad: string[] = [];
    for (const f of files) {
      const lines = (await readFile(f, 'utf8')).split('\n');
      lines.forEach((line, i) => {
        if (ALTERNATIVE.test(line)) bad.push(`${path.relative(repoRoot, f)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(bad).toEqual([]);
  });

  it('the Korean messages, composed, read with one particle', () => {
    const words = ['책', '사과', '서울', '“광마회귀”', 'Webtoon', 'D-3', '1'];
    const composed: string[] = [];
    const call = (f: unknown) => {
      // Messages take words, or lists of words (genres, space names): try the one, then the other.
      const apply = (g: (...a: unknown[]) => unknown, w: string) => {
        const tries = [Array(g.length).fill(w), [...Array(g.length - 1).fill(w), [w, w]], Array(g.length).fill([w, w])];
        for (const [n, args] of tries.entries()) {
          try {
            return g(...args);
          } catch (e) {
            if (n === tries.length - 1) throw e;
          }
        }
      };
      if (typeof f === 'function') for (const w of words) composed.push(String(apply(f as (...a: unknown[]) => unknown, w)));
      else if (typeof f === 'string') composed.push(f);
      else if (f && typeof f === 'object') Object.values(f).forEach(call);
    };
    call(ko);
    call(WIDGET_STRINGS.ko);
    expect(composed.filter((s) => ALTERNATIVE.test(s))).toEqual([]);
    expect(ko.because('광마회귀', '그림체', [])).toBe('내 기록의 “광마회귀”와 그림체가 비슷해요');
    expect(ko.because('나 혼자만 레벨업', '채색과 질감', [])).toBe('내 기록의 “나 혼자만 레벨업”과 채색과 질감이 비슷해요');
    expect(ko.because('광마회귀', ko.spaceList(['줄거리 키워드', '장르']), ['무협/사극'])).toBe('내 기록의 “광마회귀”와 줄거리 키워드와 장르가 비슷해요 · 둘 다 무협/사극');
    expect(ko.spaceList(['그림체', '장르'])).toBe('그림체와 장르');
    expect(ko.surpriseWhyCatalog('스릴러', '액션')).toBe('스릴러에서 고른 의외의 작품: 이 카탈로그에서 스릴러는 내가 읽은 액션과 자주 함께 붙는 장르예요');
    expect(ko.departureWhy(['개그'])).toBe('의외의 작품: 평소 읽지 않던 개그');
    expect(ko.similar('줄거리 의미')).toBe('줄거리 의미가 비슷해요');
    expect(ko.surpriseWhy('스릴러', '로맨스')).toBe('스릴러에서 고른 의외의 작품: 나처럼 로맨스를 읽는 독자들도 봐요');
    expect(ko.surpriseWhy('스릴러', '무협')).toBe('스릴러에서 고른 의외의 작품: 나처럼 무협을 읽는 독자들도 봐요');
    expect(WIDGET_STRINGS.ko.because('서울')).toBe('“서울”과 비슷해요');
    expect(WIDGET_STRINGS.ko.because('바다')).toBe('“바다”와 비슷해요');
  });
});

// Type check only: every pair may be written in either order.
const _pairs: JosaPair[] = ['이/가', '가/이', '와/과', '과/와', '으로/로', '로/으로', '이에요/예요'];
void _pairs;
