/**
 * The timeline model from recorded listings (zfs-fuse scenarios, the timeline's schedule recording,
 * OpenZFS 2.3.2): what a user checks on the timeline: which mark is the base, what is target-only or
 * unsent, links = common snapshots, holds, bookmarks, clones on their origin, gaps, what retention
 * prunes next, and the summary. Every model also passes the protocol's own validation.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildListing, type HostListing } from '../../../src/core/fleet/listing.js';
import { datasetTimeline, pairTimeline, type Listings } from '../../../src/core/timeline/model.js';
import { parseZfsGetTriples } from '../../../src/core/zfs/parse.js';
import { checkModel, MarkFlag, type TimelineLane, type TimelineModel } from '../../../src/shared/protocol.js';
import { R1, R2, capabilities, fuseListing, openzfsListing, openzfsListingWithout, pair, scenarioPair } from '../replication/fixtures.js';

const TL = path.resolve('test/unit/timeline/fixtures');
const tlMeta = JSON.parse(fs.readFileSync(path.join(TL, 'meta.json'), 'utf8')) as {
  recordedEnd: string;
  roots: Record<string, string>;
  commands: Record<string, string>;
};
const T1 = tlMeta.roots.off1!;
const T2 = tlMeta.roots.ovh3!;

/** The timeline's own recording (schedule.HOST.txt). */
function scheduleListing(host: 'off1' | 'ovh3'): HostListing {
  const file = `schedule.${host}.txt`;
  const l = buildListing(host, capabilities(host), [], parseZfsGetTriples(fs.readFileSync(path.join(TL, file), 'utf8'), tlMeta.commands[file]));
  l.takenAt = new Date(tlMeta.recordedEnd);
  return l;
}

function listings(byHost: Record<string, HostListing>): Listings {
  return (h) => byHost[h];
}

function scenario(name: string, dataset = 'fs', options: Parameters<typeof pairTimeline>[3] = {}): TimelineModel {
  const m = pairTimeline(scenarioPair(name, dataset), listings({ off1: fuseListing(name, 'off1'), ovh3: fuseListing(name, 'ovh3') }), [], options);
  return valid(m);
}

/** The protocol's validation, on the model as it crosses postMessage (JSON). */
function valid(m: TimelineModel): TimelineModel {
  expect(() => checkModel(JSON.parse(JSON.stringify(m)))).not.toThrow();
  return m;
}

const names = (lane: TimelineLane, flag: number) => lane.marks.filter((m) => m.flags & flag).map((m) => m.name);
const all = (lane: TimelineLane) => lane.marks.map((m) => `${m.kind === 'bookmark' ? '#' : '@'}${m.name}`);
/** The linked pairs of names: `source name = target name`. */
const linked = (m: TimelineModel) =>
  m.links.map((l) => `${m.lanes[l.from[0]]!.marks[l.from[1]]!.name}=${m.lanes[l.to[0]]!.marks[l.to[1]]!.name}${l.base ? ' (base)' : ''}`);

describe('a pair on zfs-fuse (recorded scenarios)', () => {
  it('in sync: every snapshot linked, the newest is the base on both lanes, nothing unsent or target-only', () => {
    const m = scenario('insync');
    const [src, dst] = m.lanes as [TimelineLane, TimelineLane];
    expect(m.subject).toEqual({ kind: 'pair', pairId: scenarioPair('insync').id });
    expect(m.pairId).toBe(scenarioPair('insync').id);
    expect([src.id, src.role, dst.id, dst.role]).toEqual([`off1:${R1}/insync/fs`, 'source', `ovh3:${R2}/insync/fs`, 'target']);
    expect(all(src)).toEqual(['@20230501-0000', '@20230515-0000', '@20230530-2330']);
    expect(linked(m)).toEqual(['20230501-0000=20230501-0000', '20230515-0000=20230515-0000', '20230530-2330=20230530-2330 (base)']);
    expect(names(src, MarkFlag.Base)).toEqual(['20230530-2330']);
    expect(names(dst, MarkFlag.Base)).toEqual(['20230530-2330']);
    expect(names(src, MarkFlag.Common)).toHaveLength(3);
    expect(names(src, MarkFlag.Unsent)).toEqual([]);
    expect(names(dst, MarkFlag.TargetOnly)).toEqual([]);
    // Retention prunes the oldest; the base is the newest: not at risk.
    expect(names(src, MarkFlag.PrunesNext)).toEqual(['20230501-0000']);
    expect(names(src, MarkFlag.AtRisk)).toEqual([]);
    expect(m.summary[0]).toBe("In sync: the target has the source's newest snapshot @20230530-2330.");
    // zfs-fuse has no `written`: modified is unknown, and said so.
    expect(dst.modified).toBe('unknown');
    expect(m.summary.join('\n')).toContain('unknown (no `written` property on ovh3)');
    expect(src.marks.map((x) => x.guid)).toEqual(dst.marks.map((x) => x.guid));
    expect(src.marks.every((x) => x.time > 0 && x.used !== undefined)).toBe(true);
  });

  it('behind by 2: the two newer source snapshots are unsent, links = the 2 common snapshots', () => {
    const m = scenario('behind');
    const [src, dst] = m.lanes as [TimelineLane, TimelineLane];
    expect(names(src, MarkFlag.Unsent)).toEqual(['20230530-2330', '20230608-1130']);
    expect(names(src, MarkFlag.Base)).toEqual(['20230515-0000']);
    expect(m.links).toHaveLength(2);
    expect(m.links.filter((l) => l.base)).toHaveLength(1);
    expect(names(dst, MarkFlag.TargetOnly)).toEqual([]);
    expect(m.summary[0]).toMatch(/^Behind by 2 snapshots \(@20230530-2330, @20230608-1130\); the newest unsent one, @20230608-1130, was taken 2m ago\.$/);
  });

  it('the target took a snapshot of its own: target-only, and the summary says a rollback destroys it', () => {
    const m = scenario('newer');
    const dst = m.lanes[1]!;
    expect(names(dst, MarkFlag.TargetOnly)).toEqual(['taken-on-target']);
    expect(dst.marks.find((x) => x.name === 'taken-on-target')!.flags & MarkFlag.Common).toBe(0);
    expect(names(dst, MarkFlag.Base)).toEqual(['20230515-0000']);
    expect(m.links).toHaveLength(2);
    expect(m.summary[0]).toBe(
      'The target has 1 snapshot newer than the common base @20230515-0000 (@taken-on-target), none of which exists on the source: a receive needs the target rolled back to the base, which destroys them.',
    );
  });

  it('pruned on the source: no link, no base, every target snapshot target-only, and why', () => {
    const m = scenario('pruned');
    expect(m.links).toEqual([]);
    expect(m.lanes.flatMap((l) => names(l, MarkFlag.Base))).toEqual([]);
    expect(names(m.lanes[1]!, MarkFlag.TargetOnly)).toEqual(['20230401-0000', '20230415-0000']);
    expect(m.summary[0]).toMatch(/^No common snapshot: none of the target's 2 snapshots .* were pruned on the source\.$/);
  });

  it('never sent: the target lane says it does not exist; everything on the source is unsent', () => {
    const m = scenario('neversent');
    expect(m.lanes[1]!.problem).toBe(`${R2}/neversent/fs does not exist on ovh3`);
    expect(m.lanes[1]!.marks).toEqual([]);
    expect(names(m.lanes[0]!, MarkFlag.Unsent)).toEqual(['20230501-0000', '20230515-0000']);
    expect(m.summary).toEqual([`No common snapshot: the target ${R2}/neversent/fs does not exist: nothing was ever received.`]);
  });

  it('unrelated: same names, different guids: clashes on both lanes, never linked', () => {
    const m = scenario('unrelated');
    expect(m.links).toEqual([]);
    expect(names(m.lanes[0]!, MarkFlag.Clash)).toEqual(['20230501-0000', '20230515-0000']);
    expect(names(m.lanes[1]!, MarkFlag.Clash)).toEqual(['20230501-0000', '20230515-0000']);
    expect(m.summary[0]).toContain('exists on both sides with different guids');
  });

  it('names with spaces are kept as they are', () => {
    const m = scenario('spaces', 'my data');
    expect(m.lanes[0]!.id).toBe(`off1:${R1}/spaces/my data`);
    expect(all(m.lanes[0]!)).toEqual(['@snap one', '@snap two']);
    expect(linked(m)).toEqual(['snap one=snap one (base)']);
    expect(names(m.lanes[0]!, MarkFlag.Unsent)).toEqual(['snap two']);
  });

  it('seed 000: the clone on its origin snapshot, the target-only snapshots, and a base that retention prunes next on both sides', () => {
    const m = scenario('seed000', 'products');
    const [src, dst] = m.lanes as [TimelineLane, TimelineLane];
    expect(linked(m)).toEqual(['20230501-0000=20230501-0000 (base)']);
    expect(names(dst, MarkFlag.TargetOnly)).toEqual(['20230515-0000', '20230530-2330']);
    expect(names(src, MarkFlag.Unsent)).toEqual(['20230608-1130']);
    const origin = dst.marks.find((x) => x.name === '20230515-0000')!;
    expect(origin.clones).toEqual([`${R2}/seed000/clones/products`]);
    expect(origin.flags & MarkFlag.HasClones).toBeTruthy();
    expect(names(dst, MarkFlag.HasClones)).toEqual(['20230515-0000']);
    // The base is each side's oldest snapshot: the next prune breaks the pair.
    expect(names(src, MarkFlag.AtRisk)).toEqual(['20230501-0000']);
    expect(names(dst, MarkFlag.AtRisk)).toEqual(['20230501-0000']);
    const text = m.summary.join('\n');
    expect(text).toContain('At risk: the common base @20230501-0000 is the next snapshot retention prunes on off1');
    expect(text).toContain('At risk: the common base @20230501-0000 is the next snapshot retention prunes on ovh3');
    expect(m.summary[0]).toContain('The target has 2 snapshots newer than the common base @20230501-0000 (@20230515-0000, @20230530-2330)');
  });

  it('opened from a snapshot: the model focuses that mark', () => {
    const m = scenario('seed000', 'products', { focus: { host: 'ovh3', name: `${R2}/seed000/products@20230515-0000` } });
    expect(m.focus).toEqual({ lane: 1, mark: 1 });
    expect(scenario('seed000', 'products', { focus: { host: 'ovh3', name: `${R2}/seed000/products@nope` } }).focus).toBeUndefined();
  });

  it('a host that cannot be listed: its lane says why, and so does the summary', () => {
    const m = valid(pairTimeline(scenarioPair('insync'), listings({ off1: fuseListing('insync', 'off1') }), [], {}));
    expect(m.lanes[1]!.problem).toBe('ovh3 is not listed yet');
    const down = valid(
      pairTimeline(scenarioPair('insync'), (h) =>
        h === 'off1' ? fuseListing('insync', 'off1') : { problem: 'Cannot connect to 127.0.0.1:2232: connection refused' },
      ),
    );
    expect(down.lanes[1]!.problem).toBe('ovh3: Cannot connect to 127.0.0.1:2232: connection refused');
    expect(down.summary[0]).toBe('ovh3: Cannot connect to 127.0.0.1:2232: connection refused');
    expect(down.links).toEqual([]);
  });
});

describe('a dataset on its own (zfs-fuse clone chain)', () => {
  it('one lane; clones shown on their origin snapshots; no pair', () => {
    const l = fuseListing('clonechain', 'ovh3');
    const m = valid(datasetTimeline('ovh3', `${R2}/clonechain/fs`, listings({ ovh3: l })));
    expect(m.subject).toEqual({ kind: 'dataset', host: 'ovh3', dataset: `${R2}/clonechain/fs` });
    expect(m.pairId).toBeUndefined();
    expect(m.lanes.map((x) => x.role)).toEqual(['dataset']);
    expect(m.lanes[0]!.marks.map((x) => [x.name, x.clones ?? []])).toEqual([
      ['20230501-0000', []],
      ['20230515-0000', [`${R2}/clonechain/c1`]],
      ['20230530-2330', []],
    ]);
    expect(m.summary).toEqual(['No replication pair has this dataset as its source or target.']);
    const c1 = valid(datasetTimeline('ovh3', `${R2}/clonechain/c1`, listings({ ovh3: l })));
    expect(c1.lanes[0]!.marks.map((x) => [x.name, x.clones])).toEqual([['x', [`${R2}/clonechain/c2`]]]);
    // One snapshot: nothing to prune (the newest is never pruned).
    expect(names(c1.lanes[0]!, MarkFlag.PrunesNext)).toEqual([]);
  });

  it('a dataset that does not exist: the lane says so', () => {
    const m = valid(datasetTimeline('ovh3', `${R2}/clonechain/nope`, listings({ ovh3: fuseListing('clonechain', 'ovh3') })));
    expect(m.lanes[0]!.problem).toBe(`${R2}/clonechain/nope does not exist on ovh3`);
    expect(m.summary).toContain(`ovh3:${R2}/clonechain/nope: ${R2}/clonechain/nope does not exist on ovh3.`);
  });
});

describe('schedule, gaps, holds and retention (the timeline recording)', () => {
  const off1 = scheduleListing('off1');
  const ovh3 = scheduleListing('ovh3');
  const L = listings({ off1, ovh3 });
  const main = pair(`off1:${T1}/schedule/fs`, `ovh3:${T2}/schedule/fs`);
  const second = pair(`off1:${T1}/schedule/fs`, `ovh3:${T2}/schedule/second`);

  it('the usual interval is the median; the 7 s pause before @s6 is a gap; the held @s1 is not what retention prunes next', () => {
    const m = valid(pairTimeline(main, L));
    const [src, dst] = m.lanes as [TimelineLane, TimelineLane];
    expect(src.interval).toBe(1);
    expect(names(src, MarkFlag.GapBefore)).toEqual(['s6']);
    expect(names(src, MarkFlag.Held)).toEqual(['s1']);
    expect(src.marks[0]!.holds).toBe(1);
    expect(names(src, MarkFlag.PrunesNext)).toEqual(['s2']);
    // The target: 5 snapshots one second apart, no gap; its oldest is not held.
    expect(dst.interval).toBe(1);
    expect(names(dst, MarkFlag.GapBefore)).toEqual([]);
    expect(names(dst, MarkFlag.PrunesNext)).toEqual(['s1']);
    expect(names(src, MarkFlag.Base)).toEqual(['s5']);
    expect(names(src, MarkFlag.AtRisk)).toEqual([]);
    expect(m.links).toHaveLength(5);
    expect(names(src, MarkFlag.Unsent)).toEqual(['s6', 's7']);
    expect(m.summary).toContain(`off1:${T1}/schedule/fs: 1 gap in the schedule (usually one snapshot every 1s), before @s6.`);
  });

  it('a pair whose source has another replica: a third lane, linked to the source; flags per pair', () => {
    const m = valid(pairTimeline(main, L, [main, second]));
    expect(m.lanes.map((l) => `${l.role} ${l.id}`)).toEqual([
      `source off1:${T1}/schedule/fs`,
      `target ovh3:${T2}/schedule/fs`,
      `replica ovh3:${T2}/schedule/second`,
    ]);
    expect(m.links.filter((l) => l.to[0] === 1)).toHaveLength(5);
    expect(m.links.filter((l) => l.to[0] === 2)).toHaveLength(3);
    expect(m.links.filter((l) => l.base).map((l) => `${l.to[0]}:${m.lanes[l.to[0]]!.marks[l.to[1]]!.name}`)).toEqual(['1:s5', '2:s3']);
    // Unsent to at least one replica.
    expect(names(m.lanes[0]!, MarkFlag.Unsent)).toEqual(['s4', 's5', 's6', 's7']);
    expect(m.summary.some((s) => s.startsWith(`off1:${T1}/schedule/fs → ovh3:${T2}/schedule/second: Behind by 4 snapshots`))).toBe(true);
  });

  it('a replica opened as a dataset: its source above it', () => {
    const m = valid(datasetTimeline('ovh3', `${T2}/schedule/second`, L, [main, second]));
    expect(m.lanes.map((l) => `${l.role} ${l.id}`)).toEqual([`source off1:${T1}/schedule/fs`, `dataset ovh3:${T2}/schedule/second`]);
    expect(linked(m)).toEqual(['s1=s1', 's2=s2', 's3=s3 (base)']);
    // The source opened as a dataset: both replicas below it.
    const s = valid(datasetTimeline('off1', `${T1}/schedule/fs`, L, [main, second]));
    expect(s.lanes.map((l) => l.role)).toEqual(['dataset', 'replica', 'replica']);
    expect(s.links).toHaveLength(8);
  });
});

describe('OpenZFS 2.3.2 (holds, bookmarks, written, a partial receive, a clone)', () => {
  const tank = openzfsListing('root_zfs_list_tank', 'vm');
  const backup = openzfsListing('root_zfs_list_backup', 'vm');
  const two =
    (src: HostListing, dst: HostListing): Listings =>
    (h) =>
      h === 'src' ? src : h === 'dst' ? dst : undefined;

  it('in sync with holds and a bookmark: the bookmark is a mark of its own, not a second link; held snapshots are not pruned', () => {
    const m = valid(pairTimeline(pair('src:tank/off/products', 'dst:backup/off/products'), two(tank, backup)));
    const [src, dst] = m.lanes as [TimelineLane, TimelineLane];
    expect(all(src)).toEqual(['@20230501-0000', '#20230501-0000', '@20230515-0000', '@20230530-2330']);
    expect(src.marks.map((x) => x.holds)).toEqual([1, undefined, 1, 0]);
    expect(names(src, MarkFlag.Held)).toEqual(['20230501-0000', '20230515-0000']);
    expect(linked(m)).toEqual(['20230501-0000=20230501-0000', '20230515-0000=20230515-0000', '20230530-2330=20230530-2330 (base)']);
    // Both older snapshots are held and the newest is never pruned: nothing for retention on the source.
    expect(names(src, MarkFlag.PrunesNext)).toEqual([]);
    expect(names(dst, MarkFlag.PrunesNext)).toEqual(['20230501-0000']);
    // The clone of the replica's @20230515-0000.
    expect(dst.marks[1]!.clones).toEqual(['backup/clones/products']);
    // `written` is known: the source has data written since its newest snapshot, the target none.
    expect([src.modified, src.written, dst.modified, dst.written]).toEqual(['yes', 204800, 'no', 0]);
    expect(m.summary).toEqual(["In sync: the target has the source's newest snapshot @20230530-2330."]);
  });

  it('a partial receive: the lane has a resume token, and the summary says it can be resumed or aborted', () => {
    const m = valid(pairTimeline(pair('src:tank/off/images', 'dst:backup/off/images'), two(tank, backup)));
    expect(m.lanes[1]!.resumeToken).toBe(true);
    expect(m.lanes[0]!.resumeToken).toBeUndefined();
    // No snapshot on the target yet: "modified since its newest snapshot" has nothing to compare with.
    expect(m.lanes[1]!.marks.filter((x) => x.kind === 'snapshot')).toEqual([]);
    expect(m.lanes[1]!.modified).toBeUndefined();
    expect(m.summary.join('\n')).toContain('partially received stream');
  });

  it("a base that is the source's oldest snapshot but held: not at risk, and the summary says why", () => {
    const pulled = openzfsListing('operator_zfs_list_backup', 'vm');
    const m = valid(pairTimeline(pair('src:tank/off/products', 'dst:backup/pull/products'), two(tank, pulled)));
    const src = m.lanes[0]!;
    expect(linked(m)).toEqual(['20230501-0000=20230501-0000 (base)']);
    expect(names(src, MarkFlag.Base)).toEqual(['20230501-0000']);
    expect(names(src, MarkFlag.AtRisk)).toEqual([]);
    expect(m.summary).toContain(
      "The common base @20230501-0000 is the source's oldest snapshot, but it is held (1 hold): retention cannot destroy it while the hold stays.",
    );
    expect(m.summary.join('\n')).not.toContain('At risk');
  });

  it('the base is a bookmark when the source pruned the snapshot (derived: the recorded tank without @20230501-0000)', () => {
    const pruned = openzfsListingWithout('root_zfs_list_tank', 'vm', (n) => n === 'tank/off/products@20230501-0000');
    const pulled = openzfsListing('operator_zfs_list_backup', 'vm');
    const m = valid(pairTimeline(pair('src:tank/off/products', 'dst:backup/pull/products'), two(pruned, pulled)));
    const [src, dst] = m.lanes as [TimelineLane, TimelineLane];
    expect(all(src)).toEqual(['#20230501-0000', '@20230515-0000', '@20230530-2330']);
    expect(m.links).toEqual([{ from: [0, 0], to: [1, 0], base: true }]);
    expect(src.marks[0]!.flags & MarkFlag.Base).toBeTruthy();
    expect(dst.marks[0]!.flags & MarkFlag.Base).toBeTruthy();
    expect(names(src, MarkFlag.Unsent)).toEqual(['20230515-0000', '20230530-2330']);
    expect(m.summary[0]).toMatch(/^Behind by 2 snapshots/);
  });
});

describe('size', () => {
  it('50,000 snapshots per lane (generated listing: shape only, no timing): every mark, every link, the base', () => {
    const N = 50_000;
    const now = 1_700_000_000;
    const objects = (pool: string, count: number) => [
      { name: `${pool}/fs`, type: 'filesystem' as const, creation: now - N * 3600 - 10 },
      ...Array.from({ length: count }, (_, i) => ({
        name: `${pool}/fs@auto-${String(i).padStart(6, '0')}`,
        type: 'snapshot' as const,
        creation: now - (N - i) * 3600 + (i === 30_000 ? 20_000 : 0),
        createtxg: 100 + i,
        guid: String(10_000_000_000n + BigInt(i)),
        used: i * 10,
        userrefs: 0,
      })),
    ];
    const caps = capabilities('off1');
    const src = buildListing('off1', caps, [], objects('a', N));
    const dst = buildListing('ovh3', caps, [], objects('b', N - 10));
    const m = pairTimeline(pair('off1:a/fs', 'ovh3:b/fs'), listings({ off1: src, ovh3: dst }));
    expect(m.lanes.map((l) => l.marks.length)).toEqual([N, N - 10]);
    expect(m.links).toHaveLength(N - 10);
    expect(names(m.lanes[0]!, MarkFlag.Base)).toEqual([`auto-0${N - 11}`]);
    expect(names(m.lanes[0]!, MarkFlag.Unsent)).toHaveLength(10);
    expect(m.lanes[0]!.interval).toBe(3600);
    expect(names(m.lanes[0]!, MarkFlag.GapBefore)).toEqual(['auto-030000']);
    expect(m.summary[0]).toMatch(/^Behind by 10 snapshots \(@auto-049990, @auto-049991, @auto-049992, @auto-049993, … \(5 more\), @auto-049999\)/);
  });

  it('sanoid takes _hourly, _daily and _monthly in the same second: the usual interval is the hour, not 0 seconds', () => {
    const now = 1_700_000_000;
    const objects = [
      { name: 'a/fs', type: 'filesystem' as const, creation: now - 20 * 3600 },
      ...Array.from({ length: 10 }, (_, h) =>
        ['hourly', 'daily', 'monthly'].map((kind, k) => ({
          name: `a/fs@autosnap_h${h}_${kind}`,
          type: 'snapshot' as const,
          creation: now - (10 - h) * 3600,
          createtxg: 100 + h * 3 + k,
          guid: String(20_000_000_000 + h * 3 + k),
          used: 0,
          userrefs: 0,
        })),
      ).flat(),
    ];
    const l = buildListing('off1', capabilities('off1'), [], objects);
    const m = pairTimeline(pair('off1:a/fs', 'ovh3:b/fs'), listings({ off1: l, ovh3: buildListing('ovh3', capabilities('ovh3'), [], []) }));
    expect(m.lanes[0]!.interval).toBe(3600);
    expect(names(m.lanes[0]!, MarkFlag.GapBefore)).toEqual([]);
    const burst = buildListing(
      'off1',
      capabilities('off1'),
      [],
      objects.filter((o) => o.type !== 'snapshot' || o.creation === now - 3600),
    );
    expect(
      pairTimeline(pair('off1:a/fs', 'ovh3:b/fs'), listings({ off1: burst, ovh3: buildListing('ovh3', capabilities('ovh3'), [], []) })).lanes[0]!.interval,
    ).toBeUndefined();
  });
});
