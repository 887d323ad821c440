/**
 * zfs-fleet metrics on recorded listings, read back by a strict checker of the Prometheus text
 * exposition format 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats: metric names
 * [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*, label values with only \\, \" and
 * \n escaped, one HELP and one TYPE per family before its samples, samples of a family together,
 * no duplicate series, a line feed after the last line).
 */
import { describe, expect, it } from 'vitest';
import { escapeLabelValue, prometheusText } from '../../../src/core/monitor/metrics.js';
import { fleetFacts, type HostResult } from '../../../src/core/monitor/facts.js';
import { parseZpoolList } from '../../../src/core/zfs/parse.js';
import { recorded } from '../core/fixtures.js';
import { fuseListing, RECORDED, scenarioPair } from '../replication/fixtures.js';

interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseExposition(text: string): { types: Map<string, string>; series: Series[] } {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const series: Series[] = [];
  const seen = new Set<string>();
  const done = new Set<string>();
  let current: string | undefined;
  for (const line of text.slice(0, -1).split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) ((?:[^\\\n]|\\\\|\\n)*)$/.exec(line))) {
      expect(helps.has(m[1]!), `second HELP for ${m[1]}`).toBe(false);
      helps.add(m[1]!);
      continue;
    }
    if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line))) {
      expect(types.has(m[1]!), `second TYPE for ${m[1]}`).toBe(false);
      expect(done.has(m[1]!)).toBe(false);
      types.set(m[1]!, m[2]!);
      if (current) done.add(current);
      current = m[1]!;
      continue;
    }
    expect(line.startsWith('#'), `unexpected comment: ${line}`).toBe(false);
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(m, `not a sample line: ${line}`).not.toBeNull();
    const [, name, body, value] = m!;
    expect(name, 'a sample belongs to the family whose TYPE came last').toBe(current);
    const labels: Record<string, string> = {};
    const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"(,|$)/y;
    let at = 0;
    while (body !== undefined && at < body.length) {
      label.lastIndex = at;
      const l = label.exec(body);
      expect(l, `bad labels at ${at} in ${line}`).not.toBeNull();
      labels[l![1]!] = l![2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      at = label.lastIndex;
    }
    expect(value).toMatch(/^(-?\d+(\.\d+)?(e[+-]?\d+)?|NaN|[+-]Inf)$/);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    expect(seen.has(key), `duplicate series ${key}`).toBe(false);
    seen.add(key);
    series.push({ name: name!, labels, value: Number(value) });
  }
  for (const t of types.keys()) expect(helps.has(t), `HELP missing for ${t}`).toBe(true);
  return { types, series };
}

const T0 = RECORDED.getTime();

describe('zfs-fleet metrics', () => {
  it('hosts, pools, datasets and pairs of recorded listings, in a valid exposition', () => {
    const off1 = fuseListing('behind', 'off1');
    const degraded = recorded('zfs-fuse', 'zpool-list-H-degraded');
    off1.pools = parseZpoolList(degraded.stdout, false, degraded.cmd);
    off1.durationMs = 1234;
    const hosts: HostResult[] = [
      { host: 'off1', listing: off1 },
      { host: 'ovh3', listing: fuseListing('behind', 'ovh3') },
      { host: 'off2', error: 'connection refused' },
    ];
    const pair = scenarioPair('behind');
    const history = [
      { pair: pair.id, outcome: 'failed', finishedAt: '2026-11-22T02:00:00.000Z' },
      { pair: pair.id, outcome: 'ok', finishedAt: '2026-11-22T01:00:00.000Z' },
    ];
    const facts = fleetFacts({ hosts, pairs: [pair], history, now: T0 + 3600_000 });
    const { types, series } = parseExposition(prometheusText(facts));
    expect([...types.values()].every((t) => t === 'gauge')).toBe(true);
    const one = (name: string, labels: Record<string, string> = {}) => {
      const s = series.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
      expect(s, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
      return s[0]!.value;
    };
    expect(one('zfs_fleet_host_up', { host: 'off1' })).toBe(1);
    expect(one('zfs_fleet_host_up', { host: 'off2' })).toBe(0);
    expect(one('zfs_fleet_host_listing_seconds', { host: 'off1' })).toBe(1.234);
    expect(series.some((s) => s.name === 'zfs_fleet_host_listing_seconds' && s.labels.host === 'off2')).toBe(false);
    expect(one('zfs_fleet_pool_healthy', { pool: 'zfs-mirror' })).toBe(0);
    expect(one('zfs_fleet_pool_healthy', { pool: 'zfs-nvme' })).toBe(1);
    const nvme = one('zfs_fleet_pool_capacity_ratio', { pool: 'zfs-nvme' });
    expect(nvme).toBeGreaterThan(0);
    expect(nvme).toBeLessThan(0.01);
    const src = pair.source.name!.full;
    const newest = off1.datasets.get(src)!.snapshots[0]!.creation!;
    expect(one('zfs_fleet_dataset_newest_snapshot_timestamp_seconds', { host: 'off1', dataset: src })).toBe(newest);
    expect(one('zfs_fleet_dataset_newest_snapshot_age_seconds', { host: 'off1', dataset: src })).toBe(Math.round(T0 / 1000 + 3600 - newest));
    expect(one('zfs_fleet_dataset_snapshots', { host: 'off1', dataset: src })).toBe(4);
    expect(one('zfs_fleet_pair_snapshots_behind', { pair: pair.id })).toBe(2);
    expect(one('zfs_fleet_pair_lag_seconds', { pair: pair.id })).toBe(Math.round(facts.pairs[0]!.lagSeconds!));
    expect(one('zfs_fleet_pair_base_at_risk', { pair: pair.id })).toBe(facts.pairs[0]!.baseAtRisk ? 1 : 0);
    expect(one('zfs_fleet_pair_common_base', { pair: pair.id })).toBe(1);
    expect(one('zfs_fleet_pair_last_success_timestamp_seconds', { pair: pair.id })).toBe(Date.parse('2026-11-22T01:00:00.000Z') / 1000);
    expect(one('zfs_fleet_pair_last_run_failed', { pair: pair.id })).toBe(1);
  });

  it('a pair whose host is down has no lag sample, only pair_readable 0; no common base: common_base 0 and no lag', () => {
    const pair = scenarioPair('pruned');
    const down = fleetFacts({
      hosts: [
        { host: 'off1', listing: fuseListing('pruned', 'off1') },
        { host: 'ovh3', error: 'x' },
      ],
      pairs: [pair],
      now: T0,
    });
    const a = parseExposition(prometheusText(down)).series;
    expect(a.find((s) => s.name === 'zfs_fleet_pair_readable')!.value).toBe(0);
    expect(a.some((s) => s.name === 'zfs_fleet_pair_lag_seconds')).toBe(false);
    const pruned = fleetFacts({ hosts: (['off1', 'ovh3'] as const).map((h) => ({ host: h, listing: fuseListing('pruned', h) })), pairs: [pair], now: T0 });
    const b = parseExposition(prometheusText(pruned)).series;
    expect(b.find((s) => s.name === 'zfs_fleet_pair_common_base')!.value).toBe(0);
    expect(b.some((s) => s.name === 'zfs_fleet_pair_lag_seconds')).toBe(false);
  });

  it('label values escape backslash, quote and line feed (and write other control bytes as text)', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeLabelValue('x\ry')).toBe('x\\\\x0dy');
    const host = 'we"ird\\host\nname';
    const facts = fleetFacts({ hosts: [{ host, error: 'refused' }], pairs: [], now: T0 });
    const text = prometheusText(facts);
    expect(text).toContain('zfs_fleet_host_up{host="we\\"ird\\\\host\\nname"} 0\n');
    expect(parseExposition(text).series.find((s) => s.name === 'zfs_fleet_host_up')!.labels.host).toBe(host);
  });

  it('a dataset name with a space (recorded) is a plain label value', () => {
    const facts = fleetFacts({ hosts: [{ host: 'off1', listing: fuseListing('spaces', 'off1') }], pairs: [], now: T0 });
    const names = parseExposition(prometheusText(facts))
      .series.filter((s) => s.name === 'zfs_fleet_dataset_snapshots')
      .map((s) => s.labels.dataset);
    expect(names.some((n) => n?.endsWith('/my data'))).toBe(true);
  });
});
