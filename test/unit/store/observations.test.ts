/**
 * FleetFacts -> the agent's rows -> FleetFacts (store/observations.ts), on listings recorded from the
 * zfs-fuse lab (test/unit/replication/fixtures) and pools recorded from zfs-fuse and OpenZFS 2.3:
 * `check --from-store` must judge what the agent recorded exactly as a live check judges the same
 * listings, at the time of the sweep and later; a stale or silent agent is never a stale OK.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostListing } from '../../../src/core/fleet/listing.js';
import { DEFAULT_THRESHOLDS, evaluateCheck, nagiosText } from '../../../src/core/monitor/check.js';
import { fleetFacts, type HostResult, type RunRecord } from '../../../src/core/monitor/facts.js';
import { prometheusText } from '../../../src/core/monitor/metrics.js';
import { parseZpoolList } from '../../../src/core/zfs/parse.js';
import { factsFromObservations, observationsOfFacts, UNREADABLE } from '../../../src/store/observations.js';
import { openStore, type LatestObservations } from '../../../src/store/index.js';
import { recorded } from '../core/fixtures.js';
import { fuseListing, openzfsOutput, RECORDED, scenarioPair } from '../replication/fixtures.js';

const T0 = RECORDED.getTime();
const HOUR = 3600_000;
const T = { ...DEFAULT_THRESHOLDS, staleAfterSeconds: 3600 };
const SCENARIOS = ['insync', 'behind', 'modified', 'newer', 'neversent', 'pruned', 'unrelated', 'spaces'];

function listings(scenario: string): HostResult[] {
  const off1: HostListing = fuseListing(scenario, 'off1');
  const degraded = recorded('zfs-fuse', 'zpool-list-H-degraded');
  off1.pools = parseZpoolList(degraded.stdout, false, degraded.cmd);
  const ovh3: HostListing = fuseListing(scenario, 'ovh3');
  ovh3.pools = parseZpoolList(openzfsOutput('root_zpool_list_hp'), true);
  return [
    { host: 'off1', listing: off1 },
    { host: 'ovh3', listing: ovh3 },
  ];
}

/** The newest observations as the store gives them back: the rows of one sweep, JSON columns as JSON. */
function asStored(obs: ReturnType<typeof observationsOfFacts>): LatestObservations {
  return JSON.parse(JSON.stringify(obs)) as LatestObservations;
}

const history: RunRecord[] = [{ pair: scenarioPair('behind').id, outcome: 'failed', finishedAt: new Date(T0).toISOString(), error: 'cannot receive: busy' }];

describe('facts <-> the agent rows', () => {
  for (const scenario of SCENARIOS)
    it(`${scenario}: check and metrics from the rows say what they say of the listings, at the sweep and 5 hours later`, () => {
      const pairs = [scenarioPair(scenario)];
      const hosts = listings(scenario);
      const swept = fleetFacts({ hosts, pairs, now: T0 });
      const latest = asStored(observationsOfFacts(swept));
      for (const later of [0, 5 * HOUR]) {
        const now = T0 + later;
        const live = fleetFacts({ hosts, pairs, history, now });
        const { facts, problems } = factsFromObservations({ hosts: ['off1', 'ovh3'], pairs, latest, history, now, maxAgeSeconds: 6 * 3600 });
        expect(problems).toEqual([]);
        const a = evaluateCheck(live, T);
        const b = evaluateCheck(facts, T);
        expect(nagiosText(b)).toBe(nagiosText(a));
        expect(b.exitCode).toBe(a.exitCode);
        expect(prometheusText(facts)).toBe(prometheusText(live));
      }
    });

  it('the rows: one per host, pool, dataset and pair; sizes, used, newest snapshot and its time, the pair columns', () => {
    const pairs = [scenarioPair('behind')];
    const facts = fleetFacts({ hosts: listings('behind'), pairs, now: T0 });
    const rows = observationsOfFacts(facts);
    const at = new Date(T0).toISOString();
    expect(rows.hosts.map((h) => [h.host, h.reachable, h.observedAt, h.zfsVersion])).toEqual([
      ['off1', true, at, 'zfs-fuse 0.7.0'],
      ['ovh3', true, at, 'zfs-fuse 0.7.0'],
    ]);
    expect(rows.pools).toContainEqual(
      expect.objectContaining({ host: 'off1', pool: 'zfs-mirror', health: 'DEGRADED', fragmentationPct: null, lastScrubAt: null, scrubErrors: null }),
    );
    // OpenZFS `zpool list -Hp`: tank 1006632960 bytes, 8704000 allocated.
    expect(rows.pools).toContainEqual(expect.objectContaining({ host: 'ovh3', pool: 'tank', sizeBytes: 1006632960, allocatedBytes: 8704000 }));
    const src = facts.datasets.find((d) => d.host === 'off1' && d.dataset === pairs[0]!.source.name!.full)!;
    const row = rows.datasets.find((d) => d.host === 'off1' && d.dataset === src.dataset)!;
    expect(row).toMatchObject({ snapshotCount: src.snapshots, newestSnapshot: src.newestSnapshot, type: 'filesystem' });
    expect(Date.parse(row.newestSnapshotAt!) / 1000).toBe(src.newestCreation);
    expect(row.usedBytes).toBeGreaterThan(0);
    const p = facts.pairs[0]!;
    expect(rows.pairs).toEqual([
      expect.objectContaining({ pairId: p.pair.id, status: 'behind', behind: 2, base: p.state!.base!.source, lagSeconds: p.lagSeconds }),
    ]);
  });

  it('a host that did not answer: recorded offline with its error; its pairs unreadable, as live', () => {
    const pairs = [scenarioPair('behind')];
    const hosts: HostResult[] = [listings('behind')[0]!, { host: 'ovh3', error: 'connect ECONNREFUSED 127.0.0.1:2352' }];
    const live = fleetFacts({ hosts, pairs, now: T0 });
    const rows = observationsOfFacts(live);
    expect(rows.hosts[1]).toMatchObject({ host: 'ovh3', reachable: false, error: 'connect ECONNREFUSED 127.0.0.1:2352', latencyMs: null });
    expect(rows.pairs[0]).toMatchObject({ status: UNREADABLE, detail: { unreadable: 'ovh3 unreachable' } });
    const { facts } = factsFromObservations({ hosts: ['off1', 'ovh3'], pairs, latest: asStored(rows), now: T0, maxAgeSeconds: 300 });
    expect(nagiosText(evaluateCheck(facts, T))).toBe(nagiosText(evaluateCheck(live, T)));
    expect(evaluateCheck(facts, T).exitCode).toBe(2);
  });

  it('a stale agent: WARNING "agent not reporting since", never the old OK; a host never observed likewise', () => {
    const pairs = [scenarioPair('insync')];
    const facts0 = fleetFacts({ hosts: listings('insync'), pairs, now: T0 });
    const latest = asStored(observationsOfFacts(facts0));
    expect(evaluateCheck(facts0, { ...T, staleAfterSeconds: 7 * 86400 }).findings.filter((f) => f.kind === 'pair')).toHaveLength(1);
    const now = T0 + 10 * 60_000;
    const { facts, problems } = factsFromObservations({ hosts: ['off1', 'ovh3', 'off2'], pairs, latest, now, maxAgeSeconds: 300 });
    const report = evaluateCheck(facts, { ...T, staleAfterSeconds: 7 * 86400 }, problems);
    expect(report.exitCode).toBe(1);
    expect(report.summary).toBe(
      'ZFS FLEET WARNING - 3 warning, 1 unknown: off1 agent not reporting; ovh3 agent not reporting; off2 not observed; ' + `${pairs[0]!.id} not checked`,
    );
    const at = new Date(T0).toISOString();
    expect(report.findings.map((f) => `${f.severity} ${f.message}`)).toEqual([
      `warning off1: agent not reporting since ${at} (10m ago, over --max-age 5m)`,
      `warning ovh3: agent not reporting since ${at} (10m ago, over --max-age 5m)`,
      'warning off2: never observed by the agent (is zfs-fleet agent running with this host?)',
      `unknown ${pairs[0]!.id}: not checked: agent not reporting on off1 since ${at} (10m ago, over --max-age 5m), agent not reporting on ovh3 since ${at} (10m ago, over --max-age 5m)`,
    ]);
    // Nothing of the old observations is judged: no host, pool or dataset line.
    expect(facts.hosts).toEqual([]);
    expect(facts.datasets).toEqual([]);
  });

  it('a pair the agent has no fresh state of (not in its pairs file): UNKNOWN, not checked', () => {
    const pairs = [scenarioPair('insync')];
    const latest = asStored(observationsOfFacts(fleetFacts({ hosts: listings('insync'), pairs: [], now: T0 })));
    const { facts } = factsFromObservations({ hosts: ['off1', 'ovh3'], pairs, latest, now: T0, maxAgeSeconds: 300 });
    const report = evaluateCheck(facts, T);
    expect(report.findings.find((f) => f.kind === 'pair-unreadable')!.message).toBe(
      `${pairs[0]!.id}: not checked: no state recorded by the agent (is the pair in the agent's pairs file?)`,
    );
  });
});

describe('facts -> a real SQLite store -> facts', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-obs-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('check from the newest sweep of the store says what the live check says; an older sweep is not read', async () => {
    const store = await openStore(path.join(dir, 'fleet.db'));
    try {
      const pairs = [scenarioPair('behind')];
      const now = Date.now();
      // The recorded listings, as if swept a minute ago (an older sweep first: in sync then).
      const old = fleetFacts({ hosts: listings('insync'), pairs: [scenarioPair('insync')], now: now - 120_000 });
      const swept = fleetFacts({ hosts: listings('behind'), pairs, now: now - 60_000 });
      for (const f of [old, swept]) {
        const at = new Date(f.now).toISOString();
        await store.recordSweep({ startedAt: at, finishedAt: at, ...observationsOfFacts(f) });
      }
      const latest = await store.latestObservations({ hosts: ['off1', 'ovh3'], pairIds: pairs.map((p) => p.id) });
      const { facts, problems } = factsFromObservations({ hosts: ['off1', 'ovh3'], pairs, latest, history, now, maxAgeSeconds: 300 });
      expect(problems).toEqual([]);
      const live = fleetFacts({ hosts: listings('behind'), pairs, history, now });
      expect(nagiosText(evaluateCheck(facts, T))).toBe(nagiosText(evaluateCheck(live, T)));
      expect(prometheusText(facts)).toBe(prometheusText(live));
    } finally {
      await store.close();
    }
  });
});
