import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '../../..');
/** Real data sets live beside the repository and are never copied into it (MovieLens licence). */
export const sharedData = path.resolve(repoRoot, '../shared/data');
export const webtoonsDir = path.join(sharedData, 'webtoons');
export const demoSnapshotDir = path.join(repoRoot, 'public/snapshot');
