/**
 * What a snapshot may point at. Every file path in a manifest and every cover in its items is a path inside the
 * snapshot's folder (no `..`, no absolute path, no scheme), so neither the Node reader nor the browser ever reads
 * outside it, and no cover request tells a third party what the reader browses. Covers on another origin are
 * accepted only from the origins the operator lists in the manifest's `coverOrigins`. Links out (`sourceUrl`)
 * are http(s) only: a `javascript:` or `data:` link never reaches a page or the widget's host.
 */

/** Names JavaScript objects treat specially (schema checks skip them as keys): never a snapshot file's name. */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

/** A path inside the snapshot folder: `/`-separated segments of safe characters, none of them `.`, `..` or reserved. */
export function isSnapshotPath(p: unknown): p is string {
  if (typeof p !== 'string' || p.length === 0 || p.length > 512) return false;
  return p.split('/').every((seg) => seg.length > 0 && seg !== '.' && seg !== '..' && !RESERVED.has(seg) && /^[A-Za-z0-9._~\-+=,@]+$/.test(seg));
}

/** An absolute http(s) URL (a link out). */
export function isWebUrl(u: unknown): u is string {
  if (typeof u !== 'string') return false;
  try {
    const url = new URL(u);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}

/** An origin the operator may list in `coverOrigins`: `https://host[:port]`, nothing else. */
export function isCoverOrigin(o: unknown): o is string {
  if (typeof o !== 'string' || !isWebUrl(o)) return false;
  const url = new URL(o);
  return url.protocol === 'https:' && url.origin === o;
}

/** A cover reference: a snapshot path, or an http(s) URL on one of `origins`. */
export function isCoverRef(c: unknown, origins: readonly string[]): c is string {
  if (isSnapshotPath(c)) return true;
  return isWebUrl(c) && origins.includes(new URL(c).origin);
}
