/**
 * A loaded snapshot: the stored format (format.ts) decoded into what the Ranker ranks from. It is a Catalog
 * (rank/signals.ts), so the page, a worker and the evaluation rank it with the same code.
 */
import type { SequenceModel } from '../rank/sequence.ts';
import type { Community } from '../rank/signals.ts';
import type { Manifest, SerendipityCalibration, Space, Title } from './format.ts';
import type { TitleSlices } from './titles.ts';

export interface Snapshot {
  manifest: Manifest;
  items: Title[];
  spaces: Map<string, Space>;
  /** Extra binary files (the lexical IDF table, the community and sequence models), by path. */
  blobs: Map<string, Uint8Array>;
  indexOf: Map<string, number>;
  /** Decoded from `manifest.community` when it has a model. */
  community?: Community;
  /** Decoded from `manifest.sequence`. */
  sequence?: SequenceModel;
  /** Loads synopses on demand where the snapshot keeps them in pages and the load left them there (load.ts). */
  synopses?: SynopsisPages;
  /** From `manifest.calibration` (catalogs without community data). */
  calibration?: SerendipityCalibration;
  /**
   * Spaces whose rows a load left in the file cache, checked (load.ts `rowsOnDisk`): until the page has them in
   * (src/app/snapshot-client.ts) these spaces have no rows, so only a snapshot on its way to the page has any.
   */
  rowsOnDisk?: RowsOnDisk[];
  /**
   * The titles, when the load left them to be parsed a slice at a time (load.ts `titlesBySlice`): `items` and
   * `indexOf` are empty until the page has taken them all in (src/app/snapshot-client.ts), so only a snapshot on its
   * way to the page has it.
   */
  titles?: TitleSlices;
}

/** A space's `csr-f16` rows (`rows` of `dim`, `nnz` non-zeros) left in the kept file of that SHA-256 and size. */
export interface RowsOnDisk {
  space: string;
  sha256: string;
  bytes: number;
  rows: number;
  dim: number;
  nnz: number;
  /** Sent to the page piece by piece as they were checked (load.ts `onRowsPiece`), so not to be read from disk again. */
  sent?: boolean;
}

/** The synopsis pages of a snapshot loaded without them (load.ts synopsisPages). */
export interface SynopsisPages {
  /** Loads the pages holding these rows (every page when none is given) into the titles' `synopsis`. */
  load(rows?: Iterable<number>): Promise<void>;
}
