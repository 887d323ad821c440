/**
 * The timeline model the webview benchmark draws (bench/timeline-webview.mjs): GENERATED listings
 * of a pair with `n` snapshots per lane, built into a TimelineModel by the product's own builder
 * (src/core/timeline/model.ts pairTimeline), so the flags, links and gaps are the ones a real pair
 * of this shape gets. The shape (n = 50,000):
 *  - source a/fs: hourly snapshots for n hours, five gaps of 18-72 h in the schedule, a bookmark on
 *    every 1,000th snapshot, a hold on the common base and on a few others, one clone;
 *  - target b/fs: 9/50 of n older snapshots of its own (a replica keeps more history than its
 *    source), then the 4/5 of n the source sent (same guid and creation: linked), then 1/50 of n
 *    target-only snapshots after the common base (taken on the target: a diverged replica);
 *    clones (one snapshot with four), a receive resume token, written since its newest snapshot;
 *  - the source's newest 1/50 of n were never sent.
 */
import { buildListing } from '../src/core/fleet/listing.js';
import { parsePair } from '../src/core/fleet/pairs.js';
import { pairTimeline } from '../src/core/timeline/model.js';
import type { ZfsCapabilities, ZfsObject } from '../src/core/zfs/types.js';
import type { TimelineModel } from '../src/shared/protocol.js';
import { mulberry32 } from './prng.js';

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

const random = mulberry32;

const pad = (i: number) => String(i).padStart(6, '0');

export interface GeneratedPair {
  model: TimelineModel;
  /** What was generated, for the benchmark's printout. */
  counts: { source: number; target: number; common: number; unsent: number; targetOnly: number; bookmarks: number; clones: number; gaps: number };
}

export function generatePair(n = 50_000): GeneratedPair {
  const rnd = random(4242);
  const used = () => Math.round(4096 * Math.exp(rnd() * 12)); // 4 KiB .. ~650 MiB, skewed small
  const H = 3600;
  const T0 = 1_577_836_800; // 2020-01-01
  const old = Math.round((n * 9) / 50);
  const common = Math.round((n * 4) / 5);
  const tail = n - old - common; // target only
  const unsent = tail;
  const firstCommon = n - unsent - common; // source index of the first snapshot the target has
  const gapsAt = [0.14, 0.3, 0.46, 0.62, 0.88].map((f) => Math.floor(n * f));

  // Source creation times: hourly with gaps.
  const times: number[] = [];
  let t = T0;
  for (let i = 0; i < n; i++) {
    if (gapsAt.includes(i)) t += (18 + Math.floor(rnd() * 54)) * H;
    times.push(t);
    t += H;
  }
  const baseIndex = firstCommon + common - 1;

  const src: ZfsObject[] = [{ name: 'a/fs', type: 'filesystem', creation: T0 - 10, written: 81920 }];
  let bookmarks = 0;
  for (let i = 0; i < n; i++) {
    const o: ZfsObject = {
      name: `a/fs@auto-${pad(i)}`,
      type: 'snapshot',
      creation: times[i]!,
      createtxg: 1000 + i * 3,
      guid: String(10_000_000_000n + BigInt(i)),
      used: used(),
      userrefs: i === baseIndex || i % 7919 === 0 ? 1 : 0,
    };
    src.push(o);
    if (i % 1000 === 500) {
      src.push({ name: `a/fs#auto-${pad(i)}`, type: 'bookmark', creation: times[i]!, createtxg: o.createtxg, guid: o.guid });
      bookmarks++;
    }
  }
  src.push({ name: 'a/fs-test', type: 'filesystem', creation: times[n - 3000]! + 60, origin: `a/fs@auto-${pad(n - 3000)}`, written: 0 });

  const dst: ZfsObject[] = [
    { name: 'b', type: 'filesystem', creation: T0 - old * H - 100 },
    { name: 'b/fs', type: 'filesystem', creation: T0 - old * H - 10, written: 12288, receiveResumeToken: '1-c0ffee-d8-789c' },
  ];
  let txg = 500;
  for (let i = 0; i < old; i++) {
    dst.push({
      name: `b/fs@auto-old-${pad(i)}`,
      type: 'snapshot',
      creation: T0 - (old - i) * H,
      createtxg: txg++,
      guid: String(20_000_000_000n + BigInt(i)),
      used: used(),
      userrefs: 0,
    });
  }
  for (let i = firstCommon; i <= baseIndex; i++) {
    dst.push({
      name: `b/fs@auto-${pad(i)}`,
      type: 'snapshot',
      creation: times[i]!,
      createtxg: txg++,
      guid: String(10_000_000_000n + BigInt(i)),
      used: used(),
      userrefs: i === baseIndex ? 1 : 0,
    });
  }
  for (let i = 0; i < tail; i++) {
    dst.push({
      name: `b/fs@local-${pad(i)}`,
      type: 'snapshot',
      creation: times[baseIndex]! + (i + 1) * H + 1800,
      createtxg: txg++,
      guid: String(30_000_000_000n + BigInt(i)),
      used: used(),
      userrefs: 0,
    });
  }
  // Clones on the target: three single ones and one snapshot with four.
  const cloneOrigins = [firstCommon + 5000, firstCommon + 15000, firstCommon + 30000];
  let clones = 0;
  for (const i of cloneOrigins) {
    dst.push({ name: `b/clones/restore-${pad(i)}`, type: 'filesystem', creation: times[i]! + 600, origin: `b/fs@auto-${pad(i)}`, written: 0 });
    clones++;
  }
  for (let k = 0; k < 4; k++) {
    dst.push({
      name: `b/clones/test-${k}`,
      type: 'filesystem',
      creation: times[baseIndex - 200]! + 600,
      origin: `b/fs@auto-${pad(baseIndex - 200)}`,
      written: 0,
    });
    clones++;
  }

  const source = buildListing('off1', caps, [], src);
  const target = buildListing('ovh3', caps, [], dst);
  // Listed 20 minutes after the newest snapshot of either side.
  const listed = new Date((Math.max(times[n - 1]!, times[baseIndex]! + tail * H + 1800) + 1200) * 1000);
  source.takenAt = listed;
  target.takenAt = listed;
  const pair = parsePair({ source: 'off1:a/fs', target: 'ovh3:b/fs' });
  const model = pairTimeline(pair, (h) => (h === 'off1' ? source : h === 'ovh3' ? target : undefined));
  return {
    model: JSON.parse(JSON.stringify(model)) as TimelineModel,
    counts: { source: n, target: old + common + tail, common, unsent, targetOnly: tail, bookmarks, clones: clones + 1, gaps: gapsAt.length },
  };
}
