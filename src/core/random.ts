/** A seeded generator whose position can be saved: `rng(r.state())` continues exactly where `r` is. */
export interface Random {
  (): number;
  state(): number;
}

/** Seeded PRNG (mulberry32): everything random in Toonpick is reproducible by seed. */
export function rng(seed: number): Random {
  let a = seed >>> 0;
  const next = (() => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }) as Random;
  next.state = () => a;
  return next;
}

/** Fisher–Yates shuffle in place with a seeded generator. */
export function shuffle<T>(xs: T[], random: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}
