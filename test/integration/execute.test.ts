/**
 * The executor running real sync plans on the lab over real SSH (relay route): full then
 * incremental, a cancel mid-stream and an SSH connection cut mid-sync (both leave the target at
 * its previous snapshot, and the retry succeeds), and a plan refused because a host changed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan, type ExecDeps, type ExecEvent } from '../../src/core/execute/executor.js';
import { History } from '../../src/app/history.js';
import type { Fleet } from '../../src/core/fleet/fleet.js';
import { parsePair } from '../../src/core/fleet/pairs.js';
import { holdTagFor } from '../../src/core/replication/argv.js';
import { planSync } from '../../src/core/replication/sync.js';
import { lab, labFleet, ssh, testLogger } from './lab.js';

const tag = `x${process.pid}`;
const SRC = `zfs-hdd/${tag} src`; // a space in the name, end to end
const DST = `rpool/${tag} dst`;
const q = (s: string) => `'${s}'`;
let fleet: Fleet;

const deps = (): ExecDeps => ({ runner: (h) => fleet.host(h).runner, freshListing: (h) => fleet.host(h).refresh(), logger: testLogger });
const pair = parsePair({ source: `off1:${SRC}`, target: `ovh3:${DST}`, route: 'relay' });

async function plan() {
  const [s, t] = await Promise.all([fleet.host('off1').refresh(), fleet.host('ovh3').refresh()]);
  return planSync(pair, s, t);
}
const newest = (host: string, ds: string) =>
  ssh(host, `zfs list -H -t snapshot -o name -s creation -r ${q(ds)} | tail -1`)
    .trim()
    .split('@')[1];
/** The guids of a dataset's snapshots, oldest first, as zfs prints them. */
const guids = (host: string, ds: string) =>
  ssh(host, `zfs get -H -p -r -o name,value guid ${q(ds)} | grep @ | cut -f2`)
    .trim()
    .split('\n');
/** md5 of data.bin as the mounted dataset shows it (remounted first: zfs-fuse's FUSE mount may serve cached pages after a receive). */
const md5 = (host: string, ds: string) =>
  ssh(host, `zfs umount ${q(ds)} 2>/dev/null; zfs mount ${q(ds)} 2>/dev/null; cd "$(zfs get -H -o value mountpoint ${q(ds)})" && md5sum data.bin`).split(
    ' ',
  )[0];

function writeAndSnap(mb: number, snap: string) {
  ssh('off1', `cd "$(zfs get -H -o value mountpoint ${q(SRC)})" && head -c ${mb}M /dev/urandom > data.bin && sync && zfs snapshot ${q(`${SRC}@${snap}`)}`);
}

beforeAll(() => {
  fleet = labFleet(['off1', 'ovh3'], { keepaliveIntervalMs: 2000 });
  ssh('off1', `zfs create ${q(SRC)}`);
  writeAndSnap(2, 's1');
});

afterAll(async () => {
  await fleet.dispose();
  // Release this pair's holds if a run stopped before its cleanup, then destroy (zfs-fuse says 'busy' for a moment after changes).
  const tag = holdTagFor(pair.id);
  for (const [h, ds] of [
    ['off1', SRC],
    ['ovh3', DST],
  ] as const) {
    try {
      ssh(
        h,
        `zfs list -H -t snapshot -o name -r ${q(ds)} 2>/dev/null | while IFS= read -r s; do zfs release ${tag} "$s" 2>/dev/null; done; for i in 1 2 3 4 5; do zfs destroy -r ${q(ds)} 2>/dev/null && break; zfs list ${q(ds)} >/dev/null 2>&1 || break; sleep 1; done; true`,
      );
    } catch {}
  }
});

describe('executing sync plans on the lab (relay)', () => {
  it('a full send, then an incremental one, with progress and a history record', async () => {
    const p1 = await plan();
    expect(p1.destroys).toEqual({ snapshots: [], bookmarks: [], clones: [], datasets: [] });
    const r1 = await executePlan(p1, deps());
    expect(r1.error).toBeUndefined();
    expect(r1.outcome).toBe('ok');
    expect(guids('ovh3', DST)).toEqual(guids('off1', SRC));
    // A replica is read-only (as zrep makes it): reading it (md5sum below) must not count as a change (atime).
    ssh('ovh3', `zfs set readonly=on ${q(DST)}`);

    writeAndSnap(12, 's2');
    const events: ExecEvent[] = [];
    const r2 = await executePlan(await plan(), deps(), { onEvent: (e) => events.push(e), progressIntervalMs: 20 });
    expect(r2.outcome).toBe('ok');
    expect(r2.bytes).toBeGreaterThan(12 << 20);
    expect(events.some((e) => e.type === 'progress' && e.bytes > 0 && e.bytesPerSecond > 0)).toBe(true);
    expect(newest('ovh3', DST)).toBe('s2');
    expect(md5('ovh3', DST)).toBe(md5('off1', SRC));

    const file = path.join(fs.mkdtempSync('/tmp/zf-hist-'), 'history.jsonl');
    const h = new History(file);
    await h.append({ ...r2, pair: pair.id });
    const { entries } = await h.read();
    expect(entries[0]).toMatchObject({ outcome: 'ok', pair: pair.id, kind: 'sync' });
  });

  it('cancel mid-stream leaves the target at its previous snapshot; the retry succeeds', async () => {
    writeAndSnap(24, 's3');
    const ac = new AbortController();
    const r = await executePlan(await plan(), deps(), {
      signal: ac.signal,
      progressIntervalMs: 10,
      onEvent: (e) => {
        if (e.type === 'progress' && e.bytes > 1 << 20) ac.abort();
      },
    });
    expect({ outcome: r.outcome, error: r.error }).toEqual({ outcome: 'cancelled', error: 'cancelled by the user' });
    expect(newest('ovh3', DST)).toBe('s2');
    const retry = await executePlan(await plan(), deps());
    expect(retry.error).toBeUndefined();
    expect(retry.outcome).toBe('ok');
    expect(newest('ovh3', DST)).toBe('s3');
    expect(md5('ovh3', DST)).toBe(md5('off1', SRC));
  });

  it('an SSH connection cut mid-sync leaves the target at its previous snapshot; the retry succeeds', async () => {
    writeAndSnap(24, 's4');
    const port = lab().hosts.find((h) => h.name === 'ovh3')!.port;
    let cut = false;
    const r = await executePlan(await plan(), deps(), {
      progressIntervalMs: 10,
      onEvent: (e) => {
        if (!cut && e.type === 'progress' && e.bytes > 1 << 20) {
          cut = true;
          // Cut the TCP connection to ovh3's sshd (the kernel destroys the socket, as a network failure would).
          execFileSync('ss', ['-K', 'state', 'established', `( dport = :${port} )`]);
        }
      },
    });
    expect(cut).toBe(true);
    expect(r.outcome).toBe('failed');
    expect(r.error).toMatch(/connection|closed|lost/i);
    expect(newest('ovh3', DST)).toBe('s3');
    const retry = await executePlan(await plan(), deps());
    expect(retry.error).toBeUndefined();
    expect(newest('ovh3', DST)).toBe('s4');
    expect(md5('ovh3', DST)).toBe(md5('off1', SRC));
  }, 120_000);

  it('refuses to run when the target changed after the plan was made, naming the change', async () => {
    writeAndSnap(1, 's5');
    const p = await plan();
    ssh('ovh3', `zfs snapshot ${q(`${DST}@sneaky`)}`);
    const r = await executePlan(p, deps());
    expect(r.outcome).toBe('changed');
    expect(r.changes?.join('\n')).toMatch(/new snapshot @sneaky/);
    expect(r.steps.every((s) => s.status === 'not-run')).toBe(true);
    ssh('ovh3', `zfs destroy ${q(`${DST}@sneaky`)}`);
  });
});
