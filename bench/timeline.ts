/**
 * The timeline model at size: a pair with 50,000 snapshots per lane (generated listings, hourly,
 * the target 10 behind, one gap), printed as ratios against peers run in the same invocation:
 *  - pairState() on the same listings (the work the Replication view already does per refresh;
 *    the timeline calls it once inside, so the ratio is >= 1 and the difference is the timeline's own);
 *  - JSON.stringify of the model (what handing it to the webview costs at least).
 * Goal: the model in well under 200 ms on 2 cores. No lab needed.
 *
 *   npx esbuild bench/timeline.ts --bundle --platform=node --format=cjs --outfile=dist/bench/timeline.js && node dist/bench/timeline.js
 */
import * as os from 'node:os';
import { buildListing } from '../src/core/fleet/listing.js';
import { parsePair } from '../src/core/fleet/pairs.js';
import { pairState } from '../src/core/replication/state.js';
import { pairTimeline } from '../src/core/timeline/model.js';
import type { ZfsCapabilities, ZfsObject } from '../src/core/zfs/types.js';

const N = Number(process.env.BENCH_SNAPSHOTS ?? 50_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

const caps: ZfsCapabilities = {
  implementation: 'openzfs',
  version: '2.3.2',
  versionText: 'zfs-2.3.2-2~bpo12+2',
  listParsable: true,
  json: true,
  zpoolParsable: true,
  properties: ['createtxg', 'written', 'userrefs'],
  holds: true,
  bookmarks: true,
  resumeTokens: true,
  allow: true,
  sendEstimate: true,
};

function objects(pool: string, count: number): ZfsObject[] {
  const now = 1_700_000_000;
  const out: ZfsObject[] = [{ name: `${pool}/fs`, type: 'filesystem', creation: now - N * 3600 - 10, written: 0 }];
  for (let i = 0; i < count; i++) {
    out.push({
      name: `${pool}/fs@auto-${String(i).padStart(6, '0')}`,
      type: 'snapshot',
      creation: now - (N - i) * 3600 + (i === Math.floor(N * 0.6) ? 20_000 : 0),
      createtxg: 100 + i,
      guid: String(10_000_000_000n + BigInt(i)),
      used: (i % 97) * 4096,
      userrefs: i === 0 ? 1 : 0,
    });
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Wall time in ms; the CPU time the process used meanwhile is added to `cpu` (on a shared, loaded machine wall time includes waiting for a core). */
const cpu = { model: [] as number[], state: [] as number[] };
function time(fn: () => unknown, into?: number[]): number {
  const c = process.cpuUsage();
  const t = performance.now();
  fn();
  const wall = performance.now() - t;
  const d = process.cpuUsage(c);
  into?.push((d.user + d.system) / 1000);
  return wall;
}

const src = buildListing('src', caps, [], objects('a', N));
const dst = buildListing('dst', caps, [], objects('b', N - 10));
const pair = parsePair({ source: 'src:a/fs', target: 'dst:b/fs' });
const listings = (h: string) => (h === 'src' ? src : dst);

const model: number[] = [];
const state: number[] = [];
const json: number[] = [];
let size = 0;
for (let i = 0; i < RUNS; i++) {
  // Alternate the order so neither side always runs after the other's garbage.
  const m = () => model.push(time(() => pairTimeline(pair, listings), cpu.model));
  const s = () => state.push(time(() => pairState(pair, src, dst), cpu.state));
  if (i % 2) {
    m();
    s();
  } else {
    s();
    m();
  }
  const built = pairTimeline(pair, listings);
  json.push(
    time(() => {
      size = JSON.stringify(built).length;
    }),
  );
}
const [mm, ms, mj] = [median(model), median(state), median(json)];
console.log(`timeline model, ${N.toLocaleString('en')} snapshots per lane, median of ${RUNS}:`);
console.log(
  `  pairTimeline    ${mm.toFixed(1)} ms   (CPU ${median(cpu.model).toFixed(1)} ms; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores)`,
);
console.log(`  pairState       ${ms.toFixed(1)} ms   (CPU ${median(cpu.state).toFixed(1)} ms) (peer)  timeline / pairState = ${(mm / ms).toFixed(2)}x`);
console.log(`  JSON.stringify  ${mj.toFixed(1)} ms   (peer)  timeline / stringify = ${(mm / mj).toFixed(2)}x  (${(size / 1e6).toFixed(1)} MB)`);
