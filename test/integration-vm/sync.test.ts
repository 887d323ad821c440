/**
 * Modern OpenZFS replication run for real on the VM (issue 5), through the product's core: plans
 * from the product's listings (Fleet over its own SSH transport), run by its executor (relay route,
 * root), checked with OpenSSH + zfs inside the VM (guids, md5 of the files):
 * - a bookmark as the incremental source after the base snapshot was pruned on the source (the
 *   bookmark made by the sync itself, `#zfs-fleet-<snap>`);
 * - the base held on both sides with the plan's tag while the stream runs, and no hold left after a
 *   success, a cancel or a cut connection;
 * - a receive interrupted (cancel through the AbortSignal; this process's TCP connection to sshd cut
 *   with `ss -K`) leaves a resume token; the product plans the resume (`zfs send -t`), runs it, then
 *   plans and runs the rest;
 * - a stale token (the snapshot being sent destroyed on the source) shown in the pair state and
 *   discarded (`zfs recv -A`) only with consent: `zfs-fleet sync` prints the plan and changes
 *   nothing, `--yes` runs it; then a normal sync succeeds.
 * Datasets: tank/it5-sync-* and backup/it5-sync-*, destroyed in afterAll (also after a failure).
 */
import { execFileSync } from 'node:child_process';
import { runCli } from '../integration/cliRun.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan, type ExecDeps, type ExecEvent } from '../../src/core/execute/executor.js';
import { parsePair, type ReplicationPair } from '../../src/core/fleet/pairs.js';
import { holdTagFor } from '../../src/core/replication/argv.js';
import { pairState } from '../../src/core/replication/state.js';
import { planSync, type SyncOptions } from '../../src/core/replication/sync.js';
import { cutOwnConnections, holds, md5Files, resumeToken, snapshotGuids, ssh, sshTry, testLogger, vm, vmFleet } from './vm.js';

const fleet = vmFleet(['zfsvm']);
const deps: ExecDeps = { runner: (h) => fleet.host(h).runner, freshListing: (h) => fleet.host(h).refresh(), logger: testLogger };
const NAMES = ['bm', 'resume', 'stale'] as const;
const src = (n: string) => `tank/it5-sync-${n}`;
const dst = (n: string) => `backup/it5-sync-${n}`;
const pairOf = (n: string): ReplicationPair => parsePair({ source: `zfsvm:${src(n)}`, target: `zfsvm:${dst(n)}`, route: 'relay' });

async function plan(n: string, options: SyncOptions = {}) {
  const l = await fleet.host('zfsvm').refresh();
  return planSync(pairOf(n), l, l, options);
}
/** Random bytes into a new file of the source, then a snapshot. */
function writeAndSnap(n: string, mib: number, snap: string) {
  ssh('zfsvm', `head -c ${mib}M /dev/urandom >/${src(n)}/${snap}.bin && sync && zfs snapshot ${src(n)}@${snap}`);
}
/** The target has exactly the source's snapshots (by guid) and the files of the source's newest one. */
function expectReplica(n: string, newest: string) {
  const s = snapshotGuids(src(n));
  const t = snapshotGuids(dst(n));
  expect(t.at(-1)).toMatch(new RegExp(`^@${newest}\\t`));
  // every target snapshot is a source snapshot with the same guid (pruned source snapshots excepted)
  for (const x of t) if (s.some((y) => y.split('\t')[0] === x.split('\t')[0])) expect(s).toContain(x);
  expect(md5Files(dst(n))).toBe(md5Files(src(n), newest));
}
const cleanupAll = () =>
  sshTry(
    'zfsvm',
    `for d in ${NAMES.map((n) => `${dst(n)} ${src(n)}`).join(' ')}; do
       zfs list -H -o name -t snapshot -r "$d" 2>/dev/null | while read -r s; do zfs holds -H "$s" | cut -f2 | while read -r t; do zfs release "$t" "$s"; done; done
       zfs recv -A "$d" 2>/dev/null; zfs destroy -r "$d" 2>/dev/null
     done; zfs list -H -o name -r tank backup | grep it5-sync- || true`,
  );

beforeAll(() => {
  cleanupAll();
  for (const n of NAMES) {
    ssh('zfsvm', `zfs create ${src(n)}`);
    writeAndSnap(n, 1, 's1');
  }
});

afterAll(async () => {
  await fleet.dispose();
  const left = cleanupAll();
  expect(left.stdout.trim()).toBe('');
});

describe('a bookmark as the incremental source (the base snapshot pruned on the source)', () => {
  it('the first sync bookmarks what it sent; after the base is destroyed on the source, the next sync sends -i from that bookmark', async () => {
    const n = 'bm';
    const first = await plan(n);
    expect(first.steps.filter((s) => s.op === 'bookmark').map((s) => (s.type === 'command' ? s.argv : []))).toEqual([
      ['zfs', 'bookmark', `${src(n)}@s1`, `${src(n)}#zfs-fleet-s1`],
    ]);
    const r1 = await executePlan(first, deps);
    expect(r1.error).toBeUndefined();
    expect(r1.outcome).toBe('ok');
    expect(ssh('zfsvm', `zfs list -H -p -t bookmark -o name,guid ${src(n)}`).trim()).toBe(
      `${src(n)}#zfs-fleet-s1\t${snapshotGuids(src(n))[0]!.split('\t')[1]}`,
    );

    // The source prunes its base; only the bookmark is left in common with the target.
    ssh('zfsvm', `zfs destroy ${src(n)}@s1`);
    writeAndSnap(n, 2, 's2');
    const l = await fleet.host('zfsvm').refresh();
    expect(pairState(pairOf(n), l, l).base).toMatchObject({ kind: 'bookmark', source: `${src(n)}#zfs-fleet-s1`, target: `${dst(n)}@s1` });
    const p = planSync(pairOf(n), l, l);
    const sends = p.steps.filter((s) => s.op === 'send').map((s) => (s.type === 'pipe' ? s.from.argv : []));
    expect(sends).toEqual([['zfs', 'send', '-L', '-c', '-i', `${src(n)}#zfs-fleet-s1`, `${src(n)}@s2`]]);
    expect(p.warnings.join('\n')).toContain(`its bookmark ${src(n)}#zfs-fleet-s1 is the incremental source`);
    const r2 = await executePlan(p, deps);
    expect(r2.error).toBeUndefined();
    expect(r2.outcome).toBe('ok');
    expectReplica(n, 's2');
    expect(snapshotGuids(dst(n)).map((x) => x.split('\t')[0])).toEqual(['@s1', '@s2']);
    expect(
      ssh('zfsvm', `zfs list -H -o name -t bookmark ${src(n)}`)
        .trim()
        .split('\n'),
    ).toEqual([`${src(n)}#zfs-fleet-s1`, `${src(n)}#zfs-fleet-s2`]);
  });
});

describe('holds, interrupted receives and resume tokens (relay, recv -s)', () => {
  const n = 'resume';
  const tag = holdTagFor(pairOf(n).id);
  const both = [src(n), dst(n)];

  it('full sync; then the base is held on both sides with the plan tag WHILE the stream runs, and released after', async () => {
    expect((await executePlan(await plan(n), deps)).outcome).toBe('ok');
    writeAndSnap(n, 4, 's2');
    const p = await plan(n);
    expect(p.steps.filter((s) => s.op === 'hold').map((s) => (s.type === 'command' ? s.argv : []))).toEqual([
      ['zfs', 'hold', tag, `${src(n)}@s1`],
      ['zfs', 'hold', tag, `${dst(n)}@s1`],
    ]);
    let during: string[] | undefined;
    const r = await executePlan(p, deps, {
      progressIntervalMs: 10,
      onEvent: (e: ExecEvent) => {
        // Sampled from a second connection (OpenSSH) while the stream is half-way: this callback blocks
        // the relay until zfs holds answers, so the send cannot finish meanwhile.
        if (!during && e.type === 'progress' && e.bytes > 0) during = holds(both);
      },
    });
    expect(r.error).toBeUndefined();
    expect(r.outcome).toBe('ok');
    expect(during).toEqual([`${dst(n)}@s1\t${tag}`, `${src(n)}@s1\t${tag}`]);
    expect(holds(both)).toEqual([]);
    expectReplica(n, 's2');
  });

  it('a cancel mid-stream: no hold left, a resume token on the target; the product resumes it (send -t), then plans and sends the rest', async () => {
    writeAndSnap(n, 8, 's3');
    const ac = new AbortController();
    let at = 0;
    const r = await executePlan(await plan(n), deps, {
      signal: ac.signal,
      progressIntervalMs: 10,
      onEvent: (e) => {
        if (e.type === 'progress' && e.bytes > 1 << 20 && !ac.signal.aborted) {
          at = e.bytes;
          ac.abort();
        }
      },
    });
    expect({ outcome: r.outcome, error: r.error }).toEqual({ outcome: 'cancelled', error: 'cancelled by the user' });
    expect(at).toBeGreaterThan(1 << 20);
    expect(holds(both)).toEqual([]);
    expect(snapshotGuids(dst(n)).at(-1)).toMatch(/^@s2\t/);
    const token = resumeToken(dst(n));
    expect(token).toBeDefined();

    // More snapshots meanwhile: the resume finishes @s3, the next plan sends @s4.
    writeAndSnap(n, 1, 's4');
    const l = await fleet.host('zfsvm').refresh();
    const st = pairState(pairOf(n), l, l);
    expect(st.statuses).toContain('resume-token');
    expect(st.resume).toMatchObject({ sending: `${src(n)}@s3` });
    expect(st.resume!.stale).toBeUndefined();
    const resume = planSync(pairOf(n), l, l);
    expect(resume.title).toBe(`Resume zfsvm:${src(n)} → zfsvm:${dst(n)}`);
    expect(resume.steps.filter((s) => s.op === 'send').map((s) => (s.type === 'pipe' ? [s.from.argv, s.to.argv] : []))).toEqual([
      [
        ['zfs', 'send', '-t', token],
        ['zfs', 'recv', '-s', dst(n)],
      ],
    ]);
    const rr = await executePlan(resume, deps);
    expect(rr.error).toBeUndefined();
    expect(rr.outcome).toBe('ok');
    // Not the whole stream again: less than `zfs send -nvP` says the full -i @s2 @s3 stream is.
    const full = Number(/^size\t(\d+)$/m.exec(ssh('zfsvm', `zfs send -nvP -L -c -i ${src(n)}@s2 ${src(n)}@s3`))![1]);
    expect(st.resume!.bytes).toBeGreaterThan(0);
    expect(rr.bytes).toBeGreaterThan(0);
    expect(rr.bytes).toBeLessThan(full);
    expect(resumeToken(dst(n))).toBeUndefined();
    expect(snapshotGuids(dst(n)).at(-1)).toMatch(/^@s3\t/);

    const rest = await plan(n);
    expect(rest.summary).toMatch(/from the common base @s3 up to @s4/);
    expect((await executePlan(rest, deps)).outcome).toBe('ok');
    expectReplica(n, 's4');
    expect(snapshotGuids(dst(n))).toEqual(snapshotGuids(src(n)));
    expect(holds(both)).toEqual([]);
  });

  it("an SSH connection cut mid-stream (this process's socket to sshd destroyed): failed, no hold left, a token; the resume completes it", async () => {
    writeAndSnap(n, 8, 's5');
    let cut = 0;
    const r = await executePlan(await plan(n), deps, {
      progressIntervalMs: 10,
      onEvent: (e) => {
        if (!cut && e.type === 'progress' && e.bytes > 1 << 20) cut = cutOwnConnections();
      },
    });
    expect(cut).toBeGreaterThan(0);
    expect(r.outcome).toBe('failed');
    expect(r.error).toMatch(/connection|closed|lost/i);
    // The releases ran over a new connection after the cut.
    expect(r.steps.filter((s) => s.description.startsWith('Release')).map((s) => s.status)).toEqual(['ok', 'ok']);
    expect(holds(both)).toEqual([]);
    expect(resumeToken(dst(n))).toBeDefined();
    const resume = await plan(n);
    expect(resume.title).toMatch(/^Resume /);
    expect((await executePlan(resume, deps)).outcome).toBe('ok');
    expect((await plan(n)).steps).toEqual([]); // in sync: nothing left to send
    expectReplica(n, 's5');
    expect(snapshotGuids(dst(n))).toEqual(snapshotGuids(src(n)));
  });
});

describe('a stale resume token: detected, discarded only with consent (zfs-fleet sync), then a normal sync', () => {
  const root = path.resolve(__dirname, '../..');
  const history = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zf-it5-')), 'history.jsonl');
  const cli = (...args: string[]) => {
    const v = vm();
    return runCli([path.join(root, 'dist/cli.js'), ...args, '--ssh-config', v.sshConfig, '--known-hosts', v.knownHosts], {
      ...process.env,
      XDG_STATE_HOME: path.dirname(history),
    });
  };
  beforeAll(() => {
    execFileSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'pipe' });
  });

  it('the snapshot being sent destroyed on the source: the state says the token is stale; the plan is one confirmed zfs recv -A, run only with --yes', async () => {
    const n = 'stale';
    expect((await executePlan(await plan(n), deps)).outcome).toBe('ok');
    writeAndSnap(n, 4, 's2');
    const ac = new AbortController();
    const r = await executePlan(await plan(n), deps, {
      signal: ac.signal,
      progressIntervalMs: 10,
      onEvent: (e) => e.type === 'progress' && e.bytes > 512 << 10 && ac.abort(),
    });
    expect(r.outcome).toBe('cancelled');
    const token = resumeToken(dst(n))!;
    expect(token).toBeDefined();
    ssh('zfsvm', `zfs destroy ${src(n)}@s2`);

    const l = await fleet.host('zfsvm').refresh();
    const st = pairState(pairOf(n), l, l);
    expect(st.resume?.stale).toBe('@s2 no longer exists on the source');
    expect(st.summary).toContain('resume token is stale: @s2 no longer exists on the source');
    // zfs itself agrees (read-only: send -n)
    expect(sshTry('zfsvm', `zfs send -nvP -t ${token}`).stderr).toContain(`cannot resume send: '${src(n)}@s2' used in the initial send no longer exists`);

    // Without --yes: the plan is printed, nothing changes.
    const SRC = `zfsvm:${src(n)}`;
    const DST = `zfsvm:${dst(n)}`;
    const dry = await cli('sync', SRC, DST);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`zfsvm$ zfs recv -A ${dst(n)}`);
    expect(dry.stdout).toContain(`destroys zfsvm: ${dst(n)}/%recv (dataset: the partially received stream)`);
    expect(dry.stdout).toMatch(/\[confirm\]/);
    expect(dry.stdout).toContain('resume token is stale: @s2 no longer exists on the source');
    expect(dry.stdout).toContain('nothing changed: run again with --yes');
    expect(resumeToken(dst(n))).toBe(token);

    // With --yes (the consent): discarded; the target's snapshots untouched.
    const before = snapshotGuids(dst(n));
    const yes = await cli('sync', SRC, DST, '--yes');
    expect(yes.stderr).not.toMatch(/failed/);
    expect(yes.code).toBe(0);
    expect(yes.stdout).toMatch(/: ok in /);
    expect(resumeToken(dst(n))).toBeUndefined();
    expect(snapshotGuids(dst(n))).toEqual(before);

    // Then a normal sync (through the core the CLI runs: one CLI start costs ~10 s here).
    writeAndSnap(n, 1, 's3');
    const again = await plan(n);
    expect(again.summary).toMatch(/from the common base @s1 up to @s3/);
    expect((await executePlan(again, deps)).outcome).toBe('ok');
    expectReplica(n, 's3');
    expect(snapshotGuids(dst(n))).toEqual(snapshotGuids(src(n)));
    expect(holds([src(n), dst(n)])).toEqual([]);
  });
});
