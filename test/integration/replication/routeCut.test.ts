/**
 * Push and pull syncs run through the product's executor while an SSH connection is cut
 * mid-stream (`ss -K`, the kernel destroys the socket as a network failure would): the
 * host-to-host connection (push: source -> target, pull: target -> source) and, separately, the
 * extension's own connection to the host that runs the pipe; and a cancel. Each time: the run fails, the
 * target is still at its previous snapshot (guids), no `zfs send`/`zfs recv`/`ssh`/`sh` of that
 * pipe is left running on either host, and the retry succeeds with equal file contents.
 *
 * The lab's hosts are mount namespaces of this machine: they share its process table and network
 * stack, so `ps` and `ss` here see every host's processes and sockets. Only our own sockets are
 * cut (found by the owning process), never other tests' connections to the same sshd.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan, type ExecDeps, type ExecEvent, type ExecResult } from '../../../src/core/execute/executor.js';
import type { Fleet } from '../../../src/core/fleet/fleet.js';
import { parsePair, type Route } from '../../../src/core/fleet/pairs.js';
import { planSync } from '../../../src/core/replication/sync.js';
import { lab, labFleet, ssh, testLogger } from '../lab.js';
import { DST, SRC, destroyRoot, q, randomRoot, sh, snapshotGuids } from './scenarios.js';

const NAME = randomRoot();
const R1 = `zfs-hdd/${NAME}`;
const R2 = `rpool/${NAME}`;
const cfg = lab().sshConfig;
const port = (h: string) => lab().hosts.find((x) => x.name === h)!.port;
/** Big enough that the stream runs for a while on zfs-fuse (the cut lands mid-stream; the test checks it did). */
const MB = 64;
let fleet: Fleet;

const deps = (): ExecDeps => ({ runner: (h) => fleet.host(h).runner, freshListing: (h) => fleet.host(h).refresh(), logger: testLogger });

interface Proc {
  pid: number;
  ppid: number;
  args: string;
}
function processes(): Proc[] {
  return execFileSync('ps', ['-ww', '-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3]!.trim() }));
}
/** The processes of our pipe: every command line naming this test's root (sh -c, zfs send/recv, ssh, sshd's children). */
const ours = () => processes().filter((p) => p.args.includes(NAME) && !p.args.startsWith('ps '));

/** Local ports of the established TCP connections to `dport` owned by process `pid`. */
function localPorts(dport: number, pid: number): number[] {
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', `( dport = :${dport} )`], { encoding: 'utf8' });
  const ports: number[] = [];
  for (const line of out.split('\n')) {
    if (!line.includes(`pid=${pid},`)) continue;
    const m = /\s\S+:(\d+)\s+\S+:\d+\s/.exec(line);
    if (m) ports.push(Number(m[1]));
  }
  return ports;
}

/** Destroy (the kernel sends a reset) the connections from local `sport` to `dport`. */
function cut(dport: number, sports: number[]): void {
  // (ss prints 'RTNETLINK answers: Invalid argument' for sockets it cannot destroy, e.g. already closing: not ours to show)
  for (const sport of sports)
    execFileSync('ss', ['-K', 'state', 'established', `( dport = :${dport} and sport = :${sport} )`], { stdio: ['ignore', 'ignore', 'ignore'] });
}

async function waitFor<T>(what: string, f: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function writeAndSnap(ds: string, snap: string, mb: number): void {
  sh(SRC, `cd "$(zfs get -H -o value mountpoint ${q(ds)})" && head -c ${mb}M /dev/urandom > data.bin && sync && zfs snapshot ${q(`${ds}@${snap}`)}`);
}
/** md5 of data.bin (remounted first: zfs-fuse's FUSE mount may serve cached pages after a receive). */
const md5 = (host: string, ds: string) =>
  ssh(host, `zfs umount ${q(ds)} 2>/dev/null; zfs mount ${q(ds)} 2>/dev/null; cd "$(zfs get -H -o value mountpoint ${q(ds)})" && md5sum data.bin`).split(
    ' ',
  )[0];

function route(r: Route) {
  return r === 'push' ? { sshFromSource: ['ssh', '-F', cfg, '-o', 'BatchMode=yes', DST] } : { sshFromTarget: ['ssh', '-F', cfg, '-o', 'BatchMode=yes', SRC] };
}

async function plan(r: Route, src: string, dst: string) {
  const pair = parsePair({ source: `${SRC}:${src}`, target: `${DST}:${dst}`, route: r });
  const [s, t] = await Promise.all([fleet.host(SRC).refresh(), fleet.host(DST).refresh()]);
  return planSync(pair, s, t, { route: route(r) });
}

beforeAll(() => {
  fleet = labFleet([SRC, DST], { keepaliveIntervalMs: 2000 });
  sh(SRC, `zfs create ${q(R1)}`);
  sh(DST, `zfs create ${q(R2)}`);
});

afterAll(async () => {
  await fleet.dispose();
  for (const p of ours()) {
    try {
      process.kill(p.pid);
    } catch {}
  }
  await destroyRoot(DST, R2);
  await destroyRoot(SRC, R1);
});

type Which = 'host-to-host' | 'extension' | 'cancel';

/**
 * A sync of `r` that is cut mid-stream. host-to-host: the ssh the pipe's host runs to the other host
 * (push: off1 -> ovh3's sshd, pull: ovh3 -> off1's sshd). extension: our own connection to the host
 * that runs the pipe (push: off1, pull: ovh3).
 */
async function cutMidStream(r: Route, which: Which, src: string, dst: string): Promise<ExecResult> {
  const pipeHost = r === 'push' ? SRC : DST;
  const other = r === 'push' ? DST : SRC;
  let sendStarted = false;
  const p = await plan(r, src, dst);
  const send = p.steps.find((s) => s.op === 'send')!;
  expect(send.type === 'pipe' && send.exec?.host).toBe(pipeHost);
  const ac = new AbortController();
  const run = executePlan(p, deps(), {
    signal: ac.signal,
    onEvent: (e: ExecEvent) => void (e.type === 'step-start' && e.step.op === 'send' && (sendStarted = true)),
  });
  // Mid-stream: the receive runs and has been receiving for a moment.
  await waitFor('the send step', () => (sendStarted ? true : undefined));
  await waitFor('zfs recv into the target', () => ours().find((x) => /zfs recv/.test(x.args) && !x.args.startsWith('sh ') && !x.args.startsWith('ssh ')));
  await new Promise((res) => setTimeout(res, 300));
  if (which === 'host-to-host') {
    const client = await waitFor('the host-to-host ssh', () => ours().find((x) => x.args.startsWith('ssh ') && x.args.includes(` ${other} `)));
    const ports = localPorts(port(other), client.pid);
    expect(ports.length).toBe(1);
    cut(port(other), ports);
  } else if (which === 'cancel') {
    ac.abort();
  } else {
    const ports = localPorts(port(pipeHost), process.pid);
    expect(ports.length).toBeGreaterThan(0);
    cut(port(pipeHost), ports);
  }
  return run;
}

describe.each(['push', 'pull'] as const)('%s: an SSH connection cut mid-sync', (r) => {
  const src = `${R1}/${r} src`;
  const dst = `${R2}/${r} dst`;

  beforeAll(async () => {
    sh(SRC, `zfs create ${q(src)}`);
    writeAndSnap(src, 's1', 1);
    const first = await executePlan(await plan(r, src, dst), deps());
    expect(first.error).toBeUndefined();
    ssh(DST, `zfs set readonly=on ${q(dst)}`);
  });

  it.each(['host-to-host', 'extension', 'cancel'] as const)(
    '%s: the target stays at its previous snapshot, nothing is left running, the retry succeeds',
    async (which) => {
      const before = [...snapshotGuids(DST, dst).values()];
      const snap = `cut-${which}`;
      writeAndSnap(src, snap, MB);
      const t0 = Date.now();
      const res = await cutMidStream(r, which, src, dst);
      console.log(`${r}/${which}: ${res.outcome} after ${Date.now() - t0} ms: ${res.error}`);
      if (which === 'cancel') expect({ outcome: res.outcome, error: res.error }).toEqual({ outcome: 'cancelled', error: 'cancelled by the user' });
      else {
        expect(res.outcome).toBe('failed');
        expect(res.error).toMatch(/connection|closed|lost|reset|broken pipe/i);
      }
      // Nothing of the pipe is left on either host (they share this machine's process table).
      await waitFor('the pipe to end on both hosts', () => (ours().length === 0 ? true : undefined), 10_000).catch(() => {
        throw new Error(
          `left running:\n${ours()
            .map((p) => `${p.pid} ${p.args}`)
            .join('\n')}`,
        );
      });
      expect([...snapshotGuids(DST, dst).values()]).toEqual(before);

      const retry = await executePlan(await plan(r, src, dst), deps());
      expect(retry.error).toBeUndefined();
      expect(retry.outcome).toBe('ok');
      expect([...snapshotGuids(DST, dst).values()]).toEqual([...snapshotGuids(SRC, src).values()]);
      expect(md5(DST, dst)).toBe(md5(SRC, src));
    },
    180_000,
  );
});
