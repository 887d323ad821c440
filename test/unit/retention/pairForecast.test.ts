/**
 * The retention forecast where it is used: the fleet file's `policies` reach the pairs (loader), the
 * pair state words the common base's fate, `check` warns within a day, `metrics` gives the seconds
 * left. The listings are built with the product's buildListing from snapshot objects (name,
 * creation, guid, createtxg) whose names follow sanoid's format (see sanoidSnapshots.ts): the
 * recorded listings hold no series of sanoid snapshots.
 */
import { describe, expect, it } from 'vitest';
import { readFleetDefinition } from '../../../src/core/fleet/definition.js';
import { buildListing, type HostListing } from '../../../src/core/fleet/listing.js';
import { describeOrigin, type InvalidPair, type ValidPair } from '../../../src/core/fleet/pairSpecs.js';
import { DEFAULT_THRESHOLDS, evaluateCheck } from '../../../src/core/monitor/check.js';
import { fleetFacts } from '../../../src/core/monitor/facts.js';
import { prometheusText } from '../../../src/core/monitor/metrics.js';
import { pairState } from '../../../src/core/replication/state.js';
import { forecastRetention, formatUtc } from '../../../src/core/retention/forecast.js';
import { pairTimeline } from '../../../src/core/timeline/model.js';
import { MarkFlag } from '../../../src/shared/protocol.js';
import type { ZfsObject } from '../../../src/core/zfs/types.js';
import { capabilities } from '../replication/fixtures.js';
import { at, dailies, hourlies } from './sanoidSnapshots.js';

const SRC = 'zfs-hdd/off/products';
const DST = 'rpool/off/products';
const POLICY = { retention: { hourly: 24, daily: 7, monthly: 0 }, autoprune: true, autosnap: true };

function listing(host: 'off1' | 'ovh3', dataset: string, snaps: { name: string; creation: number; guid?: string }[], bookmarks: ZfsObject[] = []): HostListing {
  const objects: ZfsObject[] = [
    { name: dataset.split('/')[0]!, type: 'filesystem', creation: at('2026-01-01T00:00:00Z'), guid: '1' },
    { name: dataset.split('/').slice(0, 2).join('/'), type: 'filesystem', creation: at('2026-01-01T00:00:00Z'), guid: '2' },
    { name: dataset, type: 'filesystem', creation: at('2026-01-01T00:00:00Z'), guid: '3' },
    ...snaps.map((s, i) => ({ ...s, name: s.name.replace(/^[^@]*/, dataset), type: 'snapshot' as const, createtxg: 100 + i })),
    ...bookmarks,
  ];
  return buildListing(host, capabilities(host), [], objects);
}

/** off1 took 7 dailies and 24 hourlies; ovh3 received only the oldest daily. */
function scenario(opts: { policy?: unknown; bookmark?: boolean; days?: number } = {}) {
  const src = [...dailies(SRC, '2026-11-27T00:00:00Z', 7), ...hourlies(SRC, '2026-12-02T13:00:00Z', 24)].sort((a, b) => a.creation - b.creation);
  const base = src[0]!;
  const marks: ZfsObject[] = opts.bookmark ? [{ name: `${SRC}#keep-base`, type: 'bookmark', creation: base.creation, guid: base.guid! }] : [];
  const fleet = {
    pairs: [{ source: `off1:${SRC}`, target: `ovh3:${DST}`, route: 'push' }],
    ...(opts.policy !== undefined ? { policies: { [`off1:${SRC}`]: opts.policy } } : {}),
  };
  const def = readFleetDefinition({ file: '.zfs-fleet.json', text: JSON.stringify(fleet) });
  const pair = (def.entries.find((e) => e.ok) as ValidPair).pair;
  return { def, pair, off1: listing('off1', SRC, src, marks), ovh3: listing('ovh3', DST, [base]), base };
}

const NOW = Date.parse('2026-12-03T12:05:00Z');

describe('the fleet file policies', () => {
  it('reach the pair of their source dataset; a recursive policy reaches the children; other pairs get none', () => {
    const text = JSON.stringify({
      pairs: [
        { source: `off1:${SRC}`, target: `ovh3:${DST}` },
        { source: 'off1:zfs-hdd/obf/a', target: 'ovh3:rpool/obf/a' },
        { source: 'off2:zfs-nvme/x', target: 'ovh3:rpool/x' },
      ],
      policies: {
        [`off1:${SRC}`]: POLICY,
        'off1:zfs-hdd/obf': { retention: { daily: 3 }, recursive: 'zfs', processChildrenOnly: true },
      },
    });
    const def = readFleetDefinition({ file: '.zfs-fleet.json', text });
    const pairs = def.entries.map((e) => (e as ValidPair).pair);
    expect(def.policies.map((p) => p.dataset)).toEqual([`off1:${SRC}`, 'off1:zfs-hdd/obf']);
    expect(pairs[0]!.retention).toEqual({
      dataset: `off1:${SRC}`,
      policy: { autoprune: true, autosnap: true, retention: { frequently: 0, hourly: 24, daily: 7, weekly: 0, monthly: 0, yearly: 0 } },
    });
    // Inherited: sanoid's defaults for the periods left out (hourly 48, monthly 6), and process_children_only stays with the parent.
    expect(pairs[1]!.retention).toEqual({
      dataset: 'off1:zfs-hdd/obf',
      policy: { autoprune: true, autosnap: true, retention: { frequently: 0, hourly: 48, daily: 3, weekly: 0, monthly: 6, yearly: 0 } },
    });
    expect(pairs[2]!.retention).toBeUndefined();
  });

  it('refuse a bad policy as an invalid entry with its place and reason', () => {
    const bad: [unknown, RegExp][] = [
      [{ retention: { daily: -1 } }, /retention: "daily" must be a number of snapshots/],
      [{ retention: { daly: 7 } }, /unknown period "daly"/],
      [{ autoprune: 'yes', retention: {} }, /"autoprune" must be true or false/],
      [{ keep: 7, retention: {} }, /unknown key "keep"/],
      [{ autoprune: true }, /"retention" is missing/],
    ];
    for (const [policy, reason] of bad) {
      const def = readFleetDefinition({ file: '.zfs-fleet.json', text: JSON.stringify({ policies: { [`off1:${SRC}`]: policy } }) });
      const e = def.entries[0] as InvalidPair;
      expect(e.ok).toBe(false);
      expect(e.reason).toMatch(reason);
      expect(describeOrigin(e.origin)).toBe(`.zfs-fleet.json (policies "off1:${SRC}")`);
      expect(def.policies).toEqual([]);
    }
    const def = readFleetDefinition({ file: '.zfs-fleet.json', text: JSON.stringify({ policies: { 'off1:pool@snap': POLICY } }) });
    expect((def.entries[0] as InvalidPair).reason).toBe('policy off1:pool@snap: the key must be HOST:DATASET');
  });
});

describe('the pair state with a retention policy', () => {
  it('the common base the forecast prunes within a day: pruned at <UTC time> unless a sync succeeds first', () => {
    const { pair, off1, ovh3, base } = scenario({ policy: POLICY });
    const s = pairState(pair, off1, ovh3, { now: NOW });
    const name = base.name.split('@')[1];
    expect(s.retentionWarning).toBe(`the common base @${name} of off1:${SRC} -> ovh3:${DST} is pruned at 2026-12-04 00:00 UTC unless a sync succeeds first`);
    expect(s.baseForecast).toMatchObject({ policy: `off1:${SRC}`, estimate: false, pruneAt: at('2026-12-04T00:00:00Z') });
    expect(s.summary).toContain(`The retention forecast (policy of off1:${SRC}): the common base @${name}`);
  });

  it('further than a day: no warning, the summary says until when it is kept', () => {
    const { pair, off1, ovh3 } = scenario({ policy: { retention: { hourly: 24, daily: 9 } } });
    const s = pairState(pair, off1, ovh3, { now: NOW });
    expect(s.retentionWarning).toBeUndefined();
    expect(s.baseForecast!.pruneAt).toBe(at('2026-12-06T00:00:00Z'));
    expect(s.summary).toContain('keeps the common base @autosnap_2026-11-27_00:00:01_daily until 2026-12-06 00:00 UTC');
  });

  it('a bookmark of the base on the source keeps the incremental possible: no warning, and it says so', () => {
    const { pair, off1, ovh3 } = scenario({ policy: POLICY, bookmark: true });
    const s = pairState(pair, off1, ovh3, { now: NOW });
    expect(s.retentionWarning).toBeUndefined();
    expect(s.baseForecast!.keptBy).toEqual({ kind: 'bookmark', name: `${SRC}#keep-base` });
    expect(s.summary).toContain(`the source's bookmark ${SRC}#keep-base has the base's guid, so an incremental send can still start from it`);
  });

  it('autoprune=no: nothing is forecast, no warning', () => {
    const { pair, off1, ovh3 } = scenario({ policy: { ...POLICY, autoprune: false } });
    const s = pairState(pair, off1, ovh3, { now: NOW });
    expect(s.retentionWarning).toBeUndefined();
    expect(s.baseForecast).toMatchObject({ estimate: false, reason: 'autoprune is off: sanoid prunes nothing' });
  });

  it('without a policy: the estimate, worded as one', () => {
    const { pair, off1, ovh3 } = scenario();
    const s = pairState(pair, off1, ovh3, { now: NOW });
    expect(s.retentionWarning).toContain("is the source's oldest snapshot: the next prune on off1 deletes the last snapshot both sides share");
    expect(s.retentionWarning).toContain(`No retention policy for off1:${SRC}: estimate.`);
    expect(s.baseForecast).toMatchObject({ estimate: true });
  });
});

describe('check and metrics with the forecast', () => {
  const judge = (sc: ReturnType<typeof scenario>) => {
    const facts = fleetFacts({
      hosts: [
        { host: 'off1', listing: sc.off1 },
        { host: 'ovh3', listing: sc.ovh3 },
      ],
      pairs: [sc.pair],
      now: NOW,
    });
    return { facts, report: evaluateCheck(facts, DEFAULT_THRESHOLDS) };
  };

  it('a common base the forecast prunes within a day is a WARNING with the line; metrics give the seconds left', () => {
    const sc = scenario({ policy: POLICY });
    const { facts, report } = judge(sc);
    const f = report.findings.find((x) => x.kind === 'base-at-risk')!;
    expect(f.severity).toBe('warning');
    expect(f.message).toBe(
      `${sc.pair.id}: the common base @autosnap_2026-11-27_00:00:01_daily of off1:${SRC} -> ovh3:${DST} is pruned at 2026-12-04 00:00 UTC unless a sync succeeds first`,
    );
    expect(report.severity).toBe('warning');
    expect(facts.pairs[0]!.basePruneAt).toBe(at('2026-12-04T00:00:00Z'));
    expect(prometheusText(facts)).toContain(`zfs_fleet_pair_base_pruned_in_seconds{pair="${sc.pair.id}",`);
    expect(prometheusText(facts)).toMatch(new RegExp(`zfs_fleet_pair_base_pruned_in_seconds\\{[^}]*\\} ${at('2026-12-04T00:00:00Z') - NOW / 1000}\\n`));
  });

  it('further than a day, or kept by a bookmark: no base-at-risk finding; without a policy the estimate warns as before', () => {
    for (const sc of [scenario({ policy: { retention: { hourly: 24, daily: 9 } } }), scenario({ policy: POLICY, bookmark: true })])
      expect(judge(sc).report.findings.filter((x) => x.kind === 'base-at-risk')).toEqual([]);
    expect(judge(scenario({ policy: POLICY, bookmark: true })).facts.pairs[0]!.basePruneAt).toBeUndefined();
    const estimate = judge(scenario()).report.findings.find((x) => x.kind === 'base-at-risk')!;
    expect(estimate.severity).toBe('warning');
    expect(estimate.message).toContain('estimate');
  });
});

describe('the timeline with a retention policy', () => {
  const flagged = (m: ReturnType<typeof pairTimeline>, lane: number, flag: number) => m.lanes[lane]!.marks.filter((x) => x.flags & flag).map((x) => x.name);

  it("'pruned next' is what the forecast's next prune destroys; the base in it is at risk, with the policy and the time", () => {
    const { pair, off1, ovh3 } = scenario({ policy: { ...POLICY, retention: { hourly: 24, daily: 6, monthly: 0 } } });
    for (const l of [off1, ovh3]) l.takenAt = new Date(NOW);
    const m = pairTimeline(pair, (h) => (h === 'off1' ? off1 : ovh3), [], { now: NOW });
    const f = forecastRetention(pair.retention!.policy, [...off1.datasets.get(SRC)!.snapshots], { now: NOW / 1000 });
    const next = f.next!.snapshots.map((n) => n.slice(n.indexOf('@') + 1));
    expect(next.length).toBeGreaterThan(0);
    expect(flagged(m, 0, MarkFlag.PrunesNext)).toEqual(next);
    expect(flagged(m, 0, MarkFlag.AtRisk)).toEqual(['autosnap_2026-11-27_00:00:01_daily']);
    expect(m.summary.join(' ')).toContain(
      `At risk: the common base @autosnap_2026-11-27_00:00:01_daily is in the next prune of off1's retention policy (off1:${SRC}), at ${formatUtc(f.next!.at)}`,
    );
  });

  it('a base pruned further than a day away is pruned next, not at risk, and said with its time; without a policy, the estimate as before', () => {
    const keep = scenario({ policy: { ...POLICY, retention: { hourly: 200, daily: 9, monthly: 0 } } });
    for (const l of [keep.off1, keep.ovh3]) l.takenAt = new Date(NOW);
    const m = pairTimeline(keep.pair, (h) => (h === 'off1' ? keep.off1 : keep.ovh3), [], { now: NOW });
    expect(flagged(m, 0, MarkFlag.PrunesNext)).toEqual(['autosnap_2026-11-27_00:00:01_daily']);
    expect(flagged(m, 0, MarkFlag.AtRisk)).toEqual([]);
    expect(m.summary.join(' ')).not.toContain('At risk');
    const f = forecastRetention(keep.pair.retention!.policy, [...keep.off1.datasets.get(SRC)!.snapshots], { now: NOW / 1000 });
    expect(f.next!.at - NOW / 1000).toBeGreaterThan(86400);
    expect(m.summary.join(' ')).toContain(
      `The common base @autosnap_2026-11-27_00:00:01_daily is in the next prune of off1's retention policy (off1:${SRC}), at ${formatUtc(f.next!.at)}: a sync before then moves the base on.`,
    );
    const none = scenario();
    const e = pairTimeline(none.pair, (h) => (h === 'off1' ? none.off1 : none.ovh3), [], { now: NOW });
    expect(flagged(e, 0, MarkFlag.PrunesNext)).toEqual(['autosnap_2026-11-27_00:00:01_daily']);
    expect(e.summary.join(' ')).toContain('is the next snapshot retention prunes on off1 (its oldest without holds or clones)');
  });
});
