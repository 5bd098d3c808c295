/** One build for bench/build.ts, in its own process: prints `{"seconds", "peakMiB"}` as its last line. */
import { makeSnapshot } from '../scripts/snapshot.ts';

const [source, out] = process.argv.slice(2);
const t0 = performance.now();
await makeSnapshot({ source, out });
console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, peakMiB: process.resourceUsage().maxRSS / 1024 }));
