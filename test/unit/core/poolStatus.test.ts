/**
 * `zpool status` read for scrubs, data errors and health (issue 10 §6's scrub findings), on outputs
 * recorded from OpenZFS 2.3 (test/integration-vm/record-pool-status-fixtures.sh: a pool never
 * scrubbed, scrubbed clean, its only vdev overwritten then scrubbed, a scrub paused, a mirror with
 * one side offline) and zfs-fuse (test/lab/record-fixtures.sh), and what check and metrics make of them.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS, evaluateCheck } from '../../../src/core/monitor/check.js';
import { fleetFacts } from '../../../src/core/monitor/facts.js';
import { prometheusText } from '../../../src/core/monitor/metrics.js';
import { describeScan, mergePoolStatus, parseZpoolStatus, zpoolStatusCommand } from '../../../src/core/zfs/poolStatus.js';
import { parseZpoolList } from '../../../src/core/zfs/parse.js';
import { factsFromObservations, observationsOfFacts } from '../../../src/store/observations.js';
import { recorded } from './fixtures.js';
import { fuseListing } from '../replication/fixtures.js';

const oz = (name: string) => parseZpoolStatus(recorded('openzfs-2.3', name).stdout);
const fuse = (name: string) => parseZpoolStatus(recorded('zfs-fuse', name).stdout);
const utc = (...a: [number, number, number, number, number, number]) => Date.UTC(...a) / 1000;

describe('zpool status', () => {
  it('is asked with the dates in UTC and C-locale words, as recorded', () => {
    expect(zpoolStatusCommand('zpool').argv.join(' ')).toBe('env TZ=UTC LC_ALL=C zpool status');
    expect(recorded('openzfs-2.3', 'root_zpool_status_scrubbed').cmd).toBe('env TZ=UTC LC_ALL=C zpool status zf-scrub');
  });

  it('OpenZFS 2.3: never scrubbed, scrubbed clean, scrubbed with errors, paused, degraded', () => {
    expect(oz('root_zpool_status_never_scrubbed')).toEqual([{ pool: 'zf-scrub', state: 'ONLINE', dataErrors: 0 }]);
    expect(oz('root_zpool_status_scrubbed')).toEqual([
      { pool: 'zf-scrub', state: 'ONLINE', scan: { kind: 'scrub', state: 'finished', at: utc(2026, 11, 5, 4, 39, 52), errors: 0 }, dataErrors: 0 },
    ]);
    expect(oz('root_zpool_status_scrub_errors')).toEqual([
      { pool: 'zf-scrub', state: 'ONLINE', scan: { kind: 'scrub', state: 'finished', at: utc(2026, 11, 5, 4, 40, 4), errors: 346 }, dataErrors: 346 },
    ]);
    expect(oz('root_zpool_status_scrub_paused')[0]).toMatchObject({
      scan: { kind: 'scrub', state: 'paused', at: utc(2026, 11, 5, 4, 40, 7) },
      dataErrors: 346,
    });
    expect(oz('root_zpool_status_degraded')).toEqual([{ pool: 'zf-mirror', state: 'DEGRADED', dataErrors: 0 }]);
    expect(oz('root_zpool_status_all').map((p) => [p.pool, p.state])).toEqual([
      ['backup', 'ONLINE'],
      ['tank', 'ONLINE'],
      ['zf-mirror', 'DEGRADED'],
      ['zf-scrub', 'ONLINE'],
    ]);
  });

  it('a scan in words, for the Hosts and Fleet Health tooltips', () => {
    expect(describeScan(oz('root_zpool_status_scrub_errors')[0]!.scan)).toBe('scrub finished 2026-12-05 04:40 UTC, 346 errors');
    expect(describeScan(oz('root_zpool_status_scrub_paused')[0]!.scan)).toBe('scrub paused since 2026-12-05 04:40 UTC');
    expect(describeScan(undefined)).toBe('none');
  });

  it("zfs-fuse: Solaris' older ` scrub:` line", () => {
    expect(fuse('zpool-status-never-scrubbed')).toEqual([{ pool: 'zfs-scrub', state: 'ONLINE', dataErrors: 0 }]);
    expect(fuse('zpool-status-scrubbed')[0]!.scan).toEqual({ kind: 'scrub', state: 'finished', at: utc(2026, 11, 5, 4, 46, 5), errors: 0 });
    expect(fuse('zpool-status-degraded')).toEqual([{ pool: 'zfs-mirror', state: 'DEGRADED', dataErrors: 0 }]);
    expect(fuse('zpool-status')).toEqual([{ pool: 'rpool', state: 'ONLINE', dataErrors: 0 }]);
  });
});

describe('scrubs and data errors in check, metrics and the store', () => {
  // The VM's pools as zpool list listed them, with the status of the scrubbed-with-errors pool and the degraded mirror.
  const listing = fuseListing('insync', 'ovh3');
  listing.pools = mergePoolStatus(parseZpoolList(recorded('openzfs-2.3', 'root_zpool_list_degraded').stdout, true), [
    ...oz('root_zpool_status_scrub_errors'),
    ...oz('root_zpool_status_degraded'),
    ...oz('root_zpool_status_all').filter((p) => p.pool === 'tank' || p.pool === 'backup'),
  ]);
  const now = utc(2026, 11, 5, 5, 0, 0) * 1000;
  const facts = fleetFacts({ hosts: [{ host: 'vm', listing }], pairs: [], now });

  it('check: data errors and a scrub that found errors are CRITICAL, naming both; a DEGRADED pool too; clean pools say nothing', () => {
    const report = evaluateCheck(facts, DEFAULT_THRESHOLDS);
    const pools = report.findings.filter((f) => f.kind.startsWith('pool'));
    expect(pools).toEqual([
      expect.objectContaining({ severity: 'critical', kind: 'pool-health', subject: 'vm:zf-mirror', message: 'vm:zf-mirror: pool is DEGRADED (not ONLINE)' }),
      expect.objectContaining({
        severity: 'critical',
        kind: 'pool-errors',
        subject: 'vm:zf-scrub',
        short: 'vm:zf-scrub 346 data errors',
        message:
          'vm:zf-scrub: 346 data errors; its last scrub (2026-12-05 04:40 UTC) found 346 errors it could not repair (zpool status -v zf-scrub lists the damaged files)',
      }),
    ]);
    expect(report.exitCode).toBe(2);
  });

  it('metrics: data errors, the last scrub and its errors per pool', () => {
    const text = prometheusText(facts);
    expect(text).toContain('zfs_fleet_pool_data_errors{host="vm",pool="zf-scrub"} 346');
    expect(text).toContain('zfs_fleet_pool_data_errors{host="vm",pool="tank"} 0');
    expect(text).toContain(`zfs_fleet_pool_last_scrub_timestamp_seconds{host="vm",pool="zf-scrub"} ${utc(2026, 11, 5, 4, 40, 4)}`);
    expect(text).toContain('zfs_fleet_pool_last_scrub_errors{host="vm",pool="zf-scrub"} 346');
    expect(text).not.toMatch(/zfs_fleet_pool_last_scrub_errors\{host="vm",pool="tank"\}/);
  });

  it('the store keeps the last finished scrub and the data errors: check --from-store says the same', () => {
    const obs = observationsOfFacts(facts);
    expect(obs.pools.find((p) => p.pool === 'zf-scrub')).toMatchObject({ lastScrubAt: '2026-12-05T04:40:04.000Z', scrubErrors: 346, dataErrors: 346 });
    const back = factsFromObservations({
      hosts: ['vm'],
      pairs: [],
      latest: { hosts: obs.hosts, pools: obs.pools, datasets: obs.datasets, pairs: obs.pairs },
      history: [],
      now,
      maxAgeSeconds: 3600,
    });
    const live = evaluateCheck(facts, DEFAULT_THRESHOLDS).findings.filter((f) => f.kind.startsWith('pool'));
    expect(evaluateCheck(back.facts, DEFAULT_THRESHOLDS).findings.filter((f) => f.kind.startsWith('pool'))).toEqual(live);
  });
});
