/**
 * Fleet Health reads the fleet store when an agent fills it (ui/health/storeSource.ts): a sweep of
 * listings recorded from the zfs-fuse lab, written to a real SQLite store the way `zfs-fleet agent`
 * writes it, gives the same findings as the live read of the same listings; an agent not reporting,
 * Refresh (a forced read), or a store that cannot be read fall back to the hosts. The live source is
 * the app layer's own (liveHealthSource) over the same recorded listings.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { liveHealthSource, type HealthSource } from '../../../src/app/health.js';
import { History } from '../../../src/app/history.js';
import type { PairEntry } from '../../../src/core/fleet/pairSpecs.js';
import { DEFAULT_THRESHOLDS, nagiosText } from '../../../src/core/monitor/check.js';
import { fleetFacts } from '../../../src/core/monitor/facts.js';
import { observationsOfFacts } from '../../../src/store/observations.js';
import { StoreRunLog } from '../../../src/store/runLog.js';
import { storeFirstHealthSource } from '../../../src/ui/health/storeSource.js';
import { fuseListing, RECORDED, scenarioPair } from '../replication/fixtures.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-health-store-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const T0 = RECORDED.getTime();
const pair = scenarioPair('behind');
const entries: PairEntry[] = [{ ok: true, pair, spec: { source: 'x', target: 'y' }, origin: { kind: 'file', file: '.zfs-fleet.json', index: 0 } }];
const listings = { off1: fuseListing('behind', 'off1'), ovh3: fuseListing('behind', 'ovh3') };
const thresholds = () => ({ ...DEFAULT_THRESHOLDS, staleAfterSeconds: 1e9 });
const noRuns = new History(path.join(tmp, 'none.jsonl'));
const logged: string[] = [];
const logger = { trace() {}, debug() {}, info() {}, warn: (m: string) => void logged.push(m), error() {} };

let liveReads = 0;
const live: HealthSource = (() => {
  const src = liveHealthSource({
    hosts: () => ['off1', 'ovh3'],
    listing: async (h) => listings[h as 'off1' | 'ovh3'],
    pairs: async () => entries,
    runLog: noRuns,
    thresholds,
    now: () => T0,
  });
  return { read: (o) => (liveReads++, src.read(o)) };
})();

async function storeWithSweep(at: number): Promise<StoreRunLog> {
  const log = new StoreRunLog(path.join(tmp, `fleet-${at}.db`));
  const facts = fleetFacts({
    hosts: [
      { host: 'off1', listing: listings.off1 },
      { host: 'ovh3', listing: listings.ovh3 },
    ],
    pairs: [pair],
    now: at,
  });
  const iso = new Date(at).toISOString();
  // What `zfs-fleet agent` writes for one sweep, through the store's own API.
  const { openStore } = await import('../../../src/store/store.js');
  const store = await openStore(log.url);
  await store.recordSweep({ startedAt: iso, finishedAt: iso, agent: 'test', ...observationsOfFacts(facts) });
  await store.close();
  return log;
}

const source = (store: StoreRunLog | undefined, now = T0) =>
  storeFirstHealthSource(live, {
    ...(store ? { store } : {}),
    hosts: () => ['off1', 'ovh3'],
    pairs: async () => entries,
    runLog: noRuns,
    thresholds,
    logger,
    now: () => now,
  });

describe('Fleet Health from the fleet store', () => {
  it("an agent's sweep a minute old: read from the store, the same findings as the live read of the same listings", async () => {
    const store = await storeWithSweep(T0 - 60_000);
    liveReads = 0;
    const fromStore = await source(store).read();
    expect(fromStore.from).toBe('store');
    expect(fromStore.readAt).toBe(T0 - 60_000);
    expect(liveReads).toBe(0);
    const fromHosts = await live.read();
    expect(nagiosText(fromStore.report)).toBe(nagiosText(fromHosts.report));
    expect(fromStore.report.findings.some((f) => f.kind === 'pair-behind')).toBe(true);
    await store.close();
  });

  it('an agent not reporting (its sweep 10 minutes old), Refresh, or no store: the hosts are read', async () => {
    const old = await storeWithSweep(T0 - 600_000);
    expect((await source(old).read()).from).toBe('live');
    const fresh = await storeWithSweep(T0 - 1000);
    expect((await source(fresh).read({ force: true })).from).toBe('live');
    expect((await source(undefined).read()).from).toBe('live');
    await old.close();
    await fresh.close();
  });

  it('a store that cannot be opened: the hosts are read, and the log says why once', async () => {
    fs.writeFileSync(path.join(tmp, 'not-a-db'), 'this is not SQLite');
    const broken = new StoreRunLog(path.join(tmp, 'not-a-db'));
    const s = source(broken);
    logged.length = 0;
    expect((await s.read()).from).toBe('live');
    expect((await s.read()).from).toBe('live');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/^Fleet Health: the fleet store cannot be read \(.+\); reading the hosts instead$/);
  });
});
