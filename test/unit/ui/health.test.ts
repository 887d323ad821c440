/**
 * The Fleet Health view's rows (src/ui/health/rows.ts) from the same facts and findings
 * `zfs-fleet check` computes, on listings recorded from the zfs-fuse lab and OpenZFS 2.3 (as the
 * check's own tests build them), read through the live HealthSource of the application layer.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { liveHealthSource, type HealthSnapshot } from '../../../src/app/health.js';
import { History } from '../../../src/app/history.js';
import type { HostListing } from '../../../src/core/fleet/listing.js';
import type { PairEntry } from '../../../src/core/fleet/pairSpecs.js';
import { DEFAULT_THRESHOLDS, evaluateCheck, type CheckThresholds } from '../../../src/core/monitor/check.js';
import { fleetFacts } from '../../../src/core/monitor/facts.js';
import { hasControl } from '../../../src/core/text.js';
import { parseZpoolList } from '../../../src/core/zfs/parse.js';
import { capacityBar, healthPairId, healthRows, isHealthNode, messageRow, statusSummary, type HealthRow } from '../../../src/ui/health/rows.js';
import { recorded } from '../core/fixtures.js';
import { fuseListing, RECORDED, scenarioPair } from '../replication/fixtures.js';

const T0 = RECORDED.getTime();
const HOUR = 3600_000;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-health-'));

interface Setup {
  listings: Record<string, HostListing | Error>;
  scenario?: string;
  now?: number;
  history?: object[];
  invalid?: PairEntry[];
  thresholds?: Partial<CheckThresholds>;
}

/** A snapshot read by the application layer's live source over recorded listings and a real history file. */
async function read(s: Setup): Promise<HealthSnapshot> {
  const file = path.join(tmp, `history-${Math.random().toString(36).slice(2)}.jsonl`);
  fs.writeFileSync(file, (s.history ?? []).map((h) => JSON.stringify(h) + '\n').join(''));
  const pair = s.scenario ? scenarioPair(s.scenario) : undefined;
  const entries: PairEntry[] = [
    ...(pair ? [{ ok: true as const, pair, spec: { source: '', target: '' }, origin: { kind: 'file' as const, file: '.zfs-fleet.json', index: 0 } }] : []),
    ...(s.invalid ?? []),
  ];
  const source = liveHealthSource({
    hosts: () => Object.keys(s.listings),
    listing: async (h) => {
      const l = s.listings[h]!;
      if (l instanceof Error) throw l;
      return l;
    },
    pairs: async () => entries,
    runLog: new History(file),
    thresholds: () => ({ ...DEFAULT_THRESHOLDS, ...s.thresholds }),
    now: () => s.now ?? T0,
  });
  return source.read({ force: true });
}

const both = (scenario: string) => ({ off1: fuseListing(scenario, 'off1'), ovh3: fuseListing(scenario, 'ovh3') });

function group(rows: HealthRow[], g: string): HealthRow {
  const r = rows.find((x) => x.node.kind === 'health.group' && x.node.group === g);
  expect(r, g).toBeDefined();
  return r!;
}

function allText(rows: HealthRow[]): string[] {
  return rows.flatMap((r) => [r.label, r.description ?? '', ...r.tooltip.flat(), ...allText(r.children ?? [])]);
}

describe('Fleet Health rows', () => {
  it("the live source reads the same findings as zfs-fleet check's evaluateCheck on the same listings", async () => {
    const snap = await read({ listings: both('behind'), scenario: 'behind', now: T0 + 8 * HOUR });
    const facts = fleetFacts({
      hosts: [
        { host: 'off1', listing: both('behind').off1 },
        { host: 'ovh3', listing: both('behind').ovh3 },
      ],
      pairs: [scenarioPair('behind')],
      history: [],
      now: T0 + 8 * HOUR,
    });
    expect(snap.from).toBe('live');
    expect(snap.readAt).toBe(T0 + 8 * HOUR);
    expect(snap.report.findings).toEqual(evaluateCheck(facts, DEFAULT_THRESHOLDS).findings);
  });

  it('a pair behind for 8 h and stale datasets: Problems first, each finding a row with its actions; the pair problem names its pair', async () => {
    const snap = await read({ listings: both('behind'), scenario: 'behind', now: T0 + 8 * HOUR });
    const rows = healthRows(snap);
    expect(rows.map((r) => r.label)).toEqual(['Problems', 'Hosts', 'Replication']);
    const problems = group(rows, 'problems');
    expect(problems.expanded).toBe(true);
    const id = scenarioPair('behind').id;
    const behind = problems.children!.find((r) => r.node.kind === 'health.problem' && r.node.finding.kind === 'pair-behind')!;
    expect(behind.contextValue).toBe('zfs.health.problem.pair');
    expect(healthPairId(behind.node)).toBe(id);
    expect(behind.label).toBe('off1:fs → ovh3');
    expect(behind.description).toMatch(/^behind 2, lag 8h/);
    expect(behind).toMatchObject({ icon: 'warning', iconColor: 'problemsWarningIcon.foreground' });
    const stale = problems.children!.filter((r) => r.node.kind === 'health.problem' && r.node.finding.kind === 'stale');
    expect(stale.length).toBeGreaterThan(0);
    for (const r of stale) {
      expect(r.contextValue).toBe('zfs.health.problem.dataset');
      expect(r.node).toMatchObject({ host: expect.stringMatching(/^(off1|ovh3)$/) });
      expect(r.description).toMatch(/^newest snapshot 8h( 1m)? old$/);
    }
    expect(problems.description).toBe(`${problems.children!.length} warning`);
    // Within one severity the pair comes before the stale datasets (an operator acts on it first).
    expect(problems.children![0]).toBe(behind);
    const pairs = group(rows, 'pairs').children!;
    expect(pairs).toHaveLength(1);
    expect(pairs[0]).toMatchObject({ contextValue: 'zfs.health.pair', icon: 'warning' });
    expect(pairs[0]!.tooltip.find(([k]) => k === 'Lag')![1]).toMatch(/^8h/);
  });

  it('a host offline: a critical problem with Open Terminal, its pair not checked; the host row says when it was last seen', async () => {
    const snap = await read({
      listings: { off1: fuseListing('behind', 'off1'), ovh3: new Error('Cannot connect to 127.0.0.1:2232: connection refused\nat ...') },
      scenario: 'behind',
    });
    const rows = healthRows(snap, new Map([['ovh3', T0 - 5 * 60_000]]));
    const problems = group(rows, 'problems').children!;
    expect(problems[0]).toMatchObject({
      label: 'ovh3',
      description: 'unreachable',
      icon: 'error',
      iconColor: 'problemsErrorIcon.foreground',
      contextValue: 'zfs.health.problem.host',
      node: { host: 'ovh3' },
    });
    const unreadable = problems.find((r) => r.node.kind === 'health.problem' && r.node.finding.kind === 'pair-unreadable')!;
    expect(unreadable).toMatchObject({ icon: 'question', contextValue: 'zfs.health.problem.pair' });
    const hosts = group(rows, 'hosts');
    expect(hosts.description).toBe('1 of 2 online');
    const ovh3 = hosts.children!.find((r) => r.label === 'ovh3')!;
    expect(ovh3.description).toBe('offline · seen 5m ago');
    expect(ovh3.children![0]!.label).toBe('Cannot connect to 127.0.0.1:2232: connection refused');
    const off1 = hosts.children!.find((r) => r.label === 'off1')!;
    expect(off1.description).toMatch(/^online · \d+\.\d s · seen \d+s ago$/);
    const never = healthRows(snap)
      .find((r) => r.label === 'Hosts')!
      .children!.find((r) => r.label === 'ovh3')!;
    expect(never.description).toBe('offline · never seen');
    expect(statusSummary(snap)).toMatchObject({ text: '$(pulse) 2 problems', level: 'error' });
  });

  it('pools: health and a capacity bar; a DEGRADED pool (recorded zfs-fuse mirror with one side offline) is a critical problem and a red pool row', async () => {
    const l = fuseListing('insync', 'off1');
    const degraded = recorded('zfs-fuse', 'zpool-list-H-degraded');
    l.pools = parseZpoolList(degraded.stdout, false, degraded.cmd);
    const snap = await read({ listings: { off2: l } });
    const rows = healthRows(snap);
    const off2 = group(rows, 'hosts').children![0]!;
    const [mirror, nvme] = off2.children!;
    expect(mirror).toMatchObject({ label: 'zfs-mirror', icon: 'error', iconColor: 'problemsErrorIcon.foreground', contextValue: 'zfs.health.pool' });
    expect(mirror!.description).toMatch(/^▁▁▁▁▁ 0% · DEGRADED$/);
    // zfs-nvme: 1.13M of 1016M allocated.
    expect(nvme!.description).toBe('▁▁▁▁▁ 0% · ONLINE');
    const problems = group(rows, 'problems').children!;
    expect(problems.map((r) => [r.label, r.description, r.contextValue])).toContainEqual(['off2:zfs-mirror', 'DEGRADED', 'zfs.health.problem.pool']);
    expect(problems.find((r) => r.label === 'off2:zfs-mirror')!.node).toMatchObject({ host: 'off2' });
    expect(statusSummary(snap).level).toBe('error');
  });

  it('the capacity bar: five cells to the nearest fifth', () => {
    expect(capacityBar(0.81)).toBe('▇▇▇▇▁ 81%');
    expect(capacityBar(0)).toBe('▁▁▁▁▁ 0%');
    expect(capacityBar(1)).toBe('▇▇▇▇▇ 100%');
    expect(capacityBar(0.5)).toBe('▇▇▇▁▁ 50%');
  });

  it('a failed last run (from the history file) is a warning row of its pair; an invalid pair entry is an unknown row', async () => {
    const id = scenarioPair('insync').id;
    const snap = await read({
      listings: both('insync'),
      scenario: 'insync',
      history: [{ pair: id, outcome: 'failed', startedAt: '2026-11-22T00:59:00.000Z', finishedAt: '2026-11-22T01:00:00.000Z', error: 'dataset is busy' }],
      invalid: [{ ok: false, origin: { kind: 'settings', scope: 'user', index: 2 }, entry: { source: 'x' }, reason: 'target is missing' }],
    });
    const problems = group(healthRows(snap), 'problems').children!;
    const failed = problems.find((r) => r.node.kind === 'health.problem' && r.node.finding.kind === 'last-run-failed')!;
    expect(failed).toMatchObject({ contextValue: 'zfs.health.problem.pair', description: 'last run failed', icon: 'warning' });
    const config = problems.find((r) => r.contextValue === 'zfs.health.problem.config')!;
    expect(config.label).toBe('user settings (zfsFleet.pairs #3)');
    expect(config.tooltip[0]![1]).toMatch(/target is missing/);
    expect(statusSummary(snap)).toMatchObject({ text: '$(pulse) 2 problems', level: 'warning' });
  });

  it('a fleet without problems: one "No problems" row; the status bar says Fleet OK', async () => {
    const snap = await read({ listings: both('insync'), scenario: 'insync' });
    const rows = healthRows(snap);
    expect(group(rows, 'problems').children!.map((r) => r.label)).toEqual(['No problems']);
    expect(group(rows, 'pairs').children![0]).toMatchObject({ description: 'in sync', icon: 'pass' });
    expect(statusSummary(snap)).toEqual({ text: '$(check) Fleet OK', level: 'ok', lines: [] });
  });

  it("a host's text with control bytes reaches no label, description or tooltip raw", async () => {
    const snap = await read({
      listings: { off1: fuseListing('insync', 'off1'), ovh3: new Error('refused \x1b[2J\x07\u202eevil\r\nrm -rf ~') },
      scenario: 'insync',
    });
    const rows = healthRows(snap);
    for (const t of allText(rows)) expect(hasControl(t.replace(/\n/g, '')), JSON.stringify(t)).toBe(false);
    expect(group(rows, 'problems').children![0]!.tooltip[0]![1]).toContain('\\x1b[2J\\x07\\u{202e}evil');
    for (const l of statusSummary(snap).lines) expect(hasControl(l)).toBe(false);
    const failed = messageRow('error', "The fleet's health could not be read: \x1b]0;owned\x07", 'error');
    expect(hasControl(failed.label)).toBe(false);
    expect(hasControl(failed.tooltip[0]![1])).toBe(false);
  });

  it('ids are unique and stable across reads; only health nodes are health nodes', async () => {
    const a = healthRows(await read({ listings: both('newer'), scenario: 'newer', now: T0 + 8 * HOUR }));
    const b = healthRows(await read({ listings: both('newer'), scenario: 'newer', now: T0 + 8 * HOUR }));
    const ids = (rs: HealthRow[]): string[] => rs.flatMap((r) => [r.node.id, ...ids(r.children ?? [])]);
    expect(new Set(ids(a)).size).toBe(ids(a).length);
    expect(ids(b)).toEqual(ids(a));
    expect(isHealthNode(a[0]!.node)).toBe(true);
    expect(isHealthNode({ kind: 'host', id: 'off1', host: 'off1' })).toBe(false);
  });
});
