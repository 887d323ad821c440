/**
 * zfs-fleet check on listings recorded from the zfs-fuse lab (test/unit/replication/fixtures) and
 * pools recorded from zfs-fuse (a mirror with one side offline: DEGRADED) and OpenZFS 2.3.
 */
import { describe, expect, it } from 'vitest';
import type { HostListing } from '../../../src/core/fleet/listing.js';
import { DEFAULT_THRESHOLDS, evaluateCheck, formatPerfDatum, nagiosText, perfLabel, type CheckThresholds } from '../../../src/core/monitor/check.js';
import { formatDuration, parseDuration } from '../../../src/core/monitor/duration.js';
import { fleetFacts, type HostResult, type RunRecord } from '../../../src/core/monitor/facts.js';
import { parseZpoolList } from '../../../src/core/zfs/parse.js';
import { recorded } from '../core/fixtures.js';
import { fuseListing, openzfsOutput, RECORDED, scenarioPair } from '../replication/fixtures.js';

const T0 = RECORDED.getTime();
const HOUR = 3600_000;

function hosts(scenario: string): HostResult[] {
  return (['off1', 'ovh3'] as const).map((h) => ({ host: h, listing: fuseListing(scenario, h) }));
}

function check(input: { hosts: HostResult[]; scenario?: string; now?: number; history?: RunRecord[] }, t: Partial<CheckThresholds> = {}) {
  const pairs = input.scenario ? [scenarioPair(input.scenario)] : [];
  const facts = fleetFacts({ hosts: input.hosts, pairs, history: input.history ?? [], now: input.now ?? T0 });
  return { facts, report: evaluateCheck(facts, { ...DEFAULT_THRESHOLDS, ...t }) };
}

/** Nagios Plugin Development Guidelines, performance data: 'label'=value[UOM];[warn];[crit];[min];[max]. */
const PERF = /^'(?:[^'=]|'')+'=-?\d+(\.\d+)?(s|%|B|KB|MB|TB|c)?(;(-?\d+(\.\d+)?)?){0,4}$/;

describe('durations', () => {
  it('reads 7h, 30m, 2d, 1w, 1h30m and plain seconds; refuses anything else', () => {
    expect(parseDuration('7h')).toBe(25200);
    expect(parseDuration('30m')).toBe(1800);
    expect(parseDuration('2d')).toBe(172800);
    expect(parseDuration('1w')).toBe(604800);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('90')).toBe(90);
    for (const bad of ['7x', '', 'h', '-1h', '7 h', '1h 30m']) expect(() => parseDuration(bad)).toThrow(/not a duration/);
    expect(formatDuration(2 * 86400 + 3 * 3600 + 5)).toBe('2d 3h');
  });
});

describe('zfs-fleet check', () => {
  it('a pair in sync, fresh snapshots: OK, exit 0', () => {
    const { report } = check({ hosts: hosts('insync'), scenario: 'insync' });
    expect(report.severity).toBe('ok');
    expect(report.exitCode).toBe(0);
    expect(report.summary).toMatch(/^ZFS FLEET OK - 2 host\(s\), 0 pool\(s\), \d+ dataset\(s\), 1 pair\(s\) checked$/);
    expect(report.findings.map((f) => f.kind)).toContain('pair');
  });

  it('a pair behind: its lag is the age of the oldest unsent snapshot; WARNING once over --stale-after, OK before', () => {
    const later = T0 + 8 * HOUR;
    const { facts, report } = check({ hosts: hosts('behind'), scenario: 'behind', now: later }, { staleAfterSeconds: 7 * 3600 });
    const p = facts.pairs[0]!;
    expect(p.behind).toBe(2);
    const oldestUnsent = p.state!.comparison!.newerOnSource[0]!.creation!;
    expect(p.lagSeconds).toBeCloseTo(later / 1000 - oldestUnsent, 3);
    const lag = report.findings.find((f) => f.kind === 'pair-behind')!;
    expect(lag.severity).toBe('warning');
    expect(lag.message).toMatch(/behind by 2 snapshot\(s\), lag 8h/);
    const perf = report.perfdata.map(formatPerfDatum).find((l) => l.startsWith("'lag_seconds_"))!;
    expect(perf).toBe(`'lag_seconds_${p.pair.id}'=${Math.round(p.lagSeconds!)}s;25200;;0`);

    const soon = check({ hosts: hosts('behind'), scenario: 'behind', now: T0 + HOUR }, { staleAfterSeconds: 7 * 3600 * 2 });
    expect(soon.report.findings.find((f) => f.kind === 'pair-behind')!.severity).toBe('ok');
  });

  it('no common base (pruned on the source) and a target with newer snapshots (diverged): CRITICAL, exit 2', () => {
    const pruned = check({ hosts: hosts('pruned'), scenario: 'pruned' }).report;
    expect(pruned.exitCode).toBe(2);
    expect(pruned.findings[0]).toMatchObject({ severity: 'critical', kind: 'pair-diverged' });
    expect(pruned.findings[0]!.message).toMatch(/no common base: .*pruned on the source/);
    expect(pruned.perfdata.some((p) => p.label.startsWith('lag_seconds_'))).toBe(false);

    const newer = check({ hosts: hosts('newer'), scenario: 'newer' }).report;
    expect(newer.exitCode).toBe(2);
    expect(newer.summary).toMatch(/^ZFS FLEET CRITICAL - 1 critical: .* diverged$/);
  });

  it('an unreachable host: CRITICAL; its pair is UNKNOWN (not read), and the worst state wins', () => {
    const hs: HostResult[] = [
      { host: 'off1', listing: fuseListing('behind', 'off1') },
      { host: 'ovh3', error: 'Cannot connect to 127.0.0.1:2232: connection refused' },
    ];
    const { report } = check({ hosts: hs, scenario: 'behind' });
    expect(report.severity).toBe('critical');
    expect(report.summary).toMatch(/^ZFS FLEET CRITICAL - 1 critical, 1 unknown: ovh3 unreachable; .* not checked$/);
    expect(report.findings.find((f) => f.kind === 'pair-unreadable')!.message).toMatch(/ovh3 unreachable/);
    expect(report.perfdata.map(formatPerfDatum)).toContain("'hosts_unreachable'=1;;;0;2");
  });

  it('datasets whose newest snapshot is older than --stale-after: WARNING; datasets without snapshots are not checked', () => {
    const { facts, report } = check({ hosts: hosts('insync'), now: T0 + 8 * HOUR }, { staleAfterSeconds: parseDuration('7h') });
    expect(report.exitCode).toBe(1);
    const stale = report.findings.filter((f) => f.kind === 'stale');
    const withSnapshots = facts.datasets.filter((d) => d.snapshots > 0);
    expect(stale.map((f) => f.subject).sort()).toEqual(withSnapshots.map((d) => `${d.host}:${d.dataset}`).sort());
    expect(facts.datasets.some((d) => d.snapshots === 0)).toBe(true);
    expect(stale[0]!.message).toMatch(/: newest snapshot @20230530-2330 is 8h( 1m)? old \(over 7h\)$/);
  });

  it('more snapshots than --max-snapshots: WARNING', () => {
    const { report } = check({ hosts: hosts('insync'), scenario: 'insync' }, { maxSnapshots: 2 });
    const many = report.findings.filter((f) => f.kind === 'too-many-snapshots');
    expect(many.length).toBeGreaterThan(0);
    expect(many[0]!.message).toMatch(/3 snapshots \(over 2\)/);
    expect(report.exitCode).toBe(1);
  });

  it('pools: DEGRADED is CRITICAL (recorded zfs-fuse mirror with one side offline); capacity over the thresholds', () => {
    const fuse = fuseListing('insync', 'off1');
    const degraded = recorded('zfs-fuse', 'zpool-list-H-degraded');
    fuse.pools = parseZpoolList(degraded.stdout, false, degraded.cmd);
    const { report } = check({ hosts: [{ host: 'off2', listing: fuse }] });
    expect(report.findings[0]).toMatchObject({ severity: 'critical', kind: 'pool-health', subject: 'off2:zfs-mirror' });
    expect(report.summary).toBe('ZFS FLEET CRITICAL - 1 critical: off2:zfs-mirror DEGRADED');

    const oz: HostListing = fuseListing('insync', 'ovh3');
    oz.pools = parseZpoolList(openzfsOutput('root_zpool_list_hp'), true);
    // tank: 8704000 of 1006632960 bytes allocated = 0.86 %
    const warn = check({ hosts: [{ host: 'vm', listing: oz }] }, { capacityWarn: 0.5, capacityCrit: 1 }).report;
    expect(warn.findings.find((f) => f.kind === 'pool-capacity')).toMatchObject({ severity: 'warning', subject: 'vm:tank' });
    expect(warn.perfdata.map(formatPerfDatum)).toContain("'capacity_vm:tank'=0.9%;0.5;1;0;100");
    const crit = check({ hosts: [{ host: 'vm', listing: oz }] }, { capacityWarn: 0.2, capacityCrit: 0.5 }).report;
    expect(crit.exitCode).toBe(2);
  });

  it('the last run in the history failed: WARNING; a later ok run clears it', () => {
    const id = scenarioPair('insync').id;
    const failed: RunRecord = {
      pair: id,
      outcome: 'failed',
      finishedAt: '2026-11-22T01:00:00.000Z',
      error: 'cannot receive incremental stream: dataset is busy\nmore',
    };
    const ok: RunRecord = { pair: id, outcome: 'ok', finishedAt: '2026-11-21T01:00:00.000Z' };
    const { report, facts } = check({ hosts: hosts('insync'), scenario: 'insync', history: [failed, ok] });
    expect(facts.pairs[0]!.lastSuccess).toBe(ok);
    const f = report.findings.find((x) => x.kind === 'last-run-failed')!;
    expect(f.severity).toBe('warning');
    expect(f.message).toBe(`${id}: the last run (2026-11-22T01:00:00.000Z) failed: cannot receive incremental stream: dataset is busy`);
    expect(check({ hosts: hosts('insync'), scenario: 'insync', history: [ok, failed] }).report.exitCode).toBe(0);
  });

  it('the seed 000 pair: no common base, CRITICAL', () => {
    const pair = scenarioPair('seed000', 'products');
    const facts = fleetFacts({ hosts: hosts('seed000'), pairs: [pair], now: T0 });
    const r = evaluateCheck(facts, DEFAULT_THRESHOLDS);
    expect(r.exitCode).toBe(2);
    expect(r.findings.filter((f) => f.severity === 'critical').map((f) => f.kind)).toEqual(['pair-diverged']);
  });
});

describe('group replicas', () => {
  it('a replica whose role says primary is split brain (CRITICAL, demote named); a writable one a WARNING where the host can tell (not zfs-fuse)', () => {
    const pair = { ...scenarioPair('insync'), group: 'g' };
    const dst = fuseListing('insync', 'ovh3');
    const hs: HostResult[] = [
      { host: 'off1', listing: fuseListing('insync', 'off1') },
      { host: 'ovh3', listing: dst },
    ];
    const replica = dst.datasets.get(pair.target.name!.full)!.object;
    replica.role = 'primary';
    const r = evaluateCheck(fleetFacts({ hosts: hs, pairs: [pair], now: T0 }), DEFAULT_THRESHOLDS);
    const f = r.findings.find((x) => x.kind === 'split-brain')!;
    expect([f.severity, r.exitCode]).toEqual(['critical', 2]);
    expect(f.message).toContain(`zfs-fleet demote g ovh3:${pair.target.name!.full} --keep-data`);
    // zfs-fuse reports its enforced readonly=on as off: not flagged from its listing.
    replica.role = 'replica';
    replica.readonly = false;
    expect(evaluateCheck(fleetFacts({ hosts: hs, pairs: [pair], now: T0 }), DEFAULT_THRESHOLDS).findings.map((x) => x.kind)).not.toContain('replica-writable');
    dst.capabilities = { ...dst.capabilities, implementation: 'openzfs' };
    const w = evaluateCheck(fleetFacts({ hosts: hs, pairs: [pair], now: T0 }), DEFAULT_THRESHOLDS).findings.find((x) => x.kind === 'replica-writable')!;
    expect(w.severity).toBe('warning');
    expect(w.message).toMatch(/is writable \(readonly=off\).*zfs-fleet roles g makes it read-only/);
    // Outside groups nothing is said.
    expect(evaluateCheck(fleetFacts({ hosts: hs, pairs: [scenarioPair('insync')], now: T0 }), DEFAULT_THRESHOLDS).findings.map((x) => x.kind)).not.toContain(
      'replica-writable',
    );
  });
});

describe('the plugin output', () => {
  it('summary line, detail lines, perfdata after | on the last text line then one per line, each as the guidelines write it', () => {
    const hs: HostResult[] = [...hosts('behind'), { host: 'off2', error: 'connect | refused' }];
    const text = nagiosText(check({ hosts: hs, scenario: 'behind', now: T0 + 8 * HOUR }).report);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^ZFS FLEET CRITICAL - 1 critical, \d+ warning: off2 unreachable; /);
    const bar = lines.findIndex((l) => l.includes('|'));
    expect(bar).toBeGreaterThan(0);
    expect(lines[bar]!.split(' | ')).toHaveLength(2);
    expect(lines.slice(1, bar).every((l) => /^\[(OK|WARNING|CRITICAL|UNKNOWN)\] /.test(l))).toBe(true);
    expect(lines.slice(1).find((l) => l.startsWith('[CRITICAL] off2'))).toBe('[CRITICAL] off2: unreachable: connect / refused');
    const perf = [lines[bar]!.split(' | ')[1]!, ...lines.slice(bar + 1)];
    for (const p of perf) expect(p).toMatch(PERF);
  });

  it('labels are quoted, a quote doubled, = replaced', () => {
    expect(perfLabel("lag_seconds_off1:tank/it's=x->b:y")).toBe("'lag_seconds_off1:tank/it''s_x->b:y'");
    expect(formatPerfDatum({ label: 'a b', value: 3, uom: 's', warn: 10, min: 0 })).toBe("'a b'=3s;10;;0");
    expect(formatPerfDatum({ label: 'x', value: 1 })).toBe("'x'=1");
  });
});
