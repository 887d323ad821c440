/**
 * A pair's `bwlimit` on the lab's real zfs-fuse hosts over real sshd, through the built CLI: the
 * relay paces the stream in-process, push pipes it through `mbuffer -r` on the source (test/lab/lab.sh
 * installs mbuffer and pv, as most hosts that run syncoid have them). The send step's recorded duration (the runs table) is at
 * least what the limit allows for the bytes it moved: the stream was held to the rate; nothing
 * faster is asserted (a loaded machine only slows it). Throw-away roots on off1 and ovh3.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { runCli } from './cliRun.js';
import { lab } from './lab.js';
import { DST, SRC, destroyRoot, q, randomRoot, sh, snapshotGuids } from './replication/scenarios.js';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-bwlimit-'));
const NAME = randomRoot();
const R1 = `zfs-hdd/${NAME}`;
const R2 = `rpool/${NAME}`;
const LIMIT = 256 * 1024;

function run(...args: string[]) {
  const l = lab();
  return runCli([cli, ...args, '--ssh-config', l.sshConfig, '--known-hosts', l.knownHosts, '--timeout', '20'], {
    ...process.env,
    XDG_CACHE_HOME: path.join(tmp, 'cache'),
    XDG_STATE_HOME: path.join(tmp, 'state'),
  });
}

beforeAll(() => {
  execFileSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'pipe' });
  // 3 MiB of incompressible data: 12 s at 256 KiB/s, well under a second unlimited on the lab.
  sh(
    SRC,
    `zfs create -p ${q(`${R1}/src`)}\nmp=$(zfs get -H -o value mountpoint ${q(`${R1}/src`)})\nhead -c 3145728 /dev/urandom > "$mp/data"\nzfs snapshot ${q(`${R1}/src@b1`)}`,
  );
  sh(DST, `zfs create -p ${q(R2)}`);
}, 180_000);

afterAll(async () => {
  await destroyRoot(DST, R2);
  await destroyRoot(SRC, R1);
  fs.rmSync(tmp, { recursive: true, force: true });
}, 180_000);

describe.each(['relay', 'push'] as const)('bwlimit on the %s route', (route) => {
  it(`the send is held to "256K" (${LIMIT} B/s): its recorded duration is at least bytes / limit; the target equals the source`, async () => {
    const fleet = path.join(tmp, `${route}.json`);
    const source = `${SRC}:${R1}/src`;
    const target = `${DST}:${R2}/${route}`;
    // How off1 reaches ovh3 for the push: the lab's loopback address and port.
    const ovh3 = lab().hosts.find((h) => h.name === 'ovh3')!;
    const hosts = { ovh3: { address: '127.0.0.1', port: ovh3.port, user: 'root' } };
    fs.writeFileSync(fleet, JSON.stringify({ hosts, pairs: [{ source, target, route, options: { bwlimit: '256K' } }] }));
    const store = path.join(tmp, `${route}.db`);
    const r = await run('sync', source, target, '--yes', '--fleet', fleet, '--store', store);
    expect(r.stderr).not.toMatch(/not applied: neither mbuffer nor pv on [^$]/);
    expect(r.code, r.stderr).toBe(0);
    const s = await openStore(store);
    try {
      const [run1] = await s.runs({ kind: 'sync' });
      const send = run1!.steps.find((x) => / \(at most 256 KiB\/s\)$/.test(x.description))!;
      expect(send, JSON.stringify(run1!.steps)).toBeDefined();
      // The relay counts the bytes it moved; push moves them host to host: at least the 3 MiB file.
      const bytes = send.bytes ?? 3_145_728;
      expect(bytes).toBeGreaterThan(3_000_000);
      const floorMs = ((bytes - LIMIT / 10) / LIMIT) * 1000;
      expect(send.durationMs!, `${bytes} bytes in ${send.durationMs} ms`).toBeGreaterThanOrEqual(floorMs * 0.97);
      const commands = Object.values(run1!.commands ?? {})
        .flat()
        .join('\n');
      if (route === 'push') expect(commands).toMatch(/mbuffer -q -s 128k -m 16M -r 262144/);
    } finally {
      await s.close();
    }
    const src = [...snapshotGuids(SRC, `${R1}/src`)].map(([n, g]) => [n.slice(n.indexOf('@')), g]);
    const dst = [...snapshotGuids(DST, `${R2}/${route}`)].map(([n, g]) => [n.slice(n.indexOf('@')), g]);
    expect(dst).toEqual(src);
  }, 180_000);
});
