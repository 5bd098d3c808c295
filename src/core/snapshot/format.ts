/**
 * The catalog snapshot, format version 2 (documented in docs/snapshot.md; version 1 is still read).
 * A folder: `manifest.json`, `items.json`, one binary file per embedding space (item order = items.json order,
 * stored as `dtype` says: encoding.ts) and cover images. Every file is listed in the manifest with its size and
 * SHA-256 so a truncated or altered file is caught before it is used.
 */
import type { CsrRows } from './encoding.ts';
import type { EncoderInfo, FileEntry, Title } from '../schema/snapshot.ts';

// The JSON files' shapes are their schemas' (schema/snapshot.ts): one description, the types derived from it.
export { SNAPSHOT_FORMAT, SNAPSHOT_VERSION } from '../schema/snapshot.ts';
export type { Changes, CommunityInfo, EncoderInfo, FileEntry, LearnedRanker, Manifest, SequenceInfo, SequenceSpec, SerendipityCalibration, SpaceInfo, Title } from '../schema/snapshot.ts';

export interface Space {
  name: string;
  dim: number;
  /** itemCount × dim, row-major; empty when the rows are kept sparse (`csr`). */
  data: Float32Array;
  /**
   * A large sparse space's rows, kept sparse in memory (the loader does so above `SPARSE_IN_MEMORY_ABOVE` bytes dense): read rows
   * through vectors.ts's space helpers (scanSpace, rowDot, addRow, denseRows), which handle both forms.
   */
  csr?: CsrRows;
  normalized: boolean;
  encoder: EncoderInfo;
}


/**
 * A title's synopsis. Where the snapshot keeps synopses in pages (`manifest.details`) the page loads them first
 * (`Snapshot.synopses`); reading one before that is a bug, and says so rather than passing for an empty synopsis.
 */
export function synopsisOf(t: Pick<Title, 'id' | 'synopsis'>): string {
  if (t.synopsis === undefined) throw new Error(`the synopsis of ${JSON.stringify(t.id)} is not loaded yet (Snapshot.synopses.load)`);
  return t.synopsis;
}

export function indexItems(items: Title[]): Map<string, number> {
  return new Map(items.map((t, i) => [t.id, i]));
}

export async function sha256Hex(bytes: Uint8Array): Promise<string | undefined> {
  // crypto.subtle exists only in secure contexts; elsewhere sizes are still checked.
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return undefined;
  const digest = await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function contentHashOf(files: Record<string, FileEntry>): Promise<string | undefined> {
  const lines = Object.keys(files)
    .sort()
    .map((p) => `${p}:${files[p].sha256}\n`)
    .join('');
  return sha256Hex(new TextEncoder().encode(lines));
}
