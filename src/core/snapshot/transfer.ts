/**
 * A loaded snapshot as a worker hands it to the page: plain data a structured clone keeps (the sequence model,
 * a class, travels as its spec and weights), and the list of buffers to transfer, so that the page receives the
 * decoded rows without a copy and without decoding anything on its own thread. The titles travel as items.json's
 * bytes with where each title lies (titles.ts TitleBytes), which the page parses and checks a slice per task; where
 * the file could not be cut so, as checked titles, in slices (`itemSlice`): 100k title objects in one message would
 * hold the page's thread for ~150 ms.
 */
import { SequenceModel } from '../rank/sequence.ts';
import { GENRE_SPACE } from '../spaces.ts';
import type { SequenceSpec, Title } from './format.ts';
import { indexItems } from './format.ts';
import type { Snapshot } from './snapshot.ts';
import type { TitleBytes } from './titles.ts';

export type SnapshotMessage = Omit<Snapshot, 'sequence' | 'items' | 'indexOf' | 'synopses' | 'titles'> & { sequence?: { spec: SequenceSpec; weights: Float32Array }; titles?: TitleBytes };

/** The message and the buffers it owns (each once). The snapshot must not be used after it was transferred. */
export function snapshotMessage(snapshot: Snapshot): { message: SnapshotMessage; transfer: ArrayBuffer[] } {
  const { sequence, items: _items, indexOf: _indexOf, synopses: _synopses, titles: slices, ...rest } = snapshot;
  const titles = slices?.toBytes();
  const message: SnapshotMessage = { ...rest, ...(sequence ? { sequence: { spec: sequence.spec, weights: sequence.weights } } : {}), ...(titles ? { titles } : {}) };
  const arrays: ArrayBufferView[] = [
    ...[...snapshot.spaces.values()].flatMap((s) => [s.data, ...(s.csr ? [s.csr.offsets, s.csr.cols, s.csr.values, ...(s.csr.table ? [s.csr.table] : [])] : [])]),
    ...snapshot.blobs.values(),
    ...(snapshot.community ? [snapshot.community.model.index, snapshot.community.model.weight, ...(snapshot.community.model.scales ? [snapshot.community.model.scales] : []), snapshot.community.categorySimilarity] : []),
    ...(sequence ? [sequence.weights] : []),
    ...(titles ? [titles.bytes, titles.starts, titles.ends] : []),
  ];
  const transfer = [...new Set(arrays.map((a) => a.buffer))].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer && b.byteLength > 0);
  return { message, transfer };
}

/**
 * The snapshot back from its message and its titles (the sequence model rebuilt over the genre rows, as the loader
 * builds it). `indexOf`, when given, is the titles' index, built slice by slice as they arrived.
 */
export function snapshotFromMessage(message: SnapshotMessage, items: Title[], indexOf = indexItems(items)): Snapshot {
  const { sequence, titles: _titles, ...rest } = message;
  const genre = rest.spaces.get(GENRE_SPACE);
  return { ...rest, items, indexOf, ...(sequence && genre ? { sequence: new SequenceModel(sequence.spec, sequence.weights, genre.data, items.length) } : {}) };
}
