/** Access to the lab brought up by `test/lab/lab.sh up`: real zfs-fuse hosts behind real sshd. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Fleet } from '../../src/core/fleet/fleet.js';
import type { Logger } from '../../src/core/log.js';
import { createRunner, type TransportDeps } from '../../src/transport/index.js';

export interface LabHost {
  name: string;
  port: number;
  pools: string[];
  zfs: string;
  zpool: string;
}

export interface Lab {
  dir: string;
  sshConfig: string;
  knownHosts: string;
  identity: string;
  hosts: LabHost[];
  unreachable: { name: string; port: number };
}

export function lab(): Lab {
  const dir = process.env.ZFS_FLEET_LAB ?? '/tmp/zfs-fleet-lab';
  const file = path.join(dir, 'lab.json');
  if (!fs.existsSync(file)) throw new Error(`the lab is not up (no ${file}): run \`bash test/lab/lab.sh up\``);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Lab;
}

/** Run a command on a lab host with the operator's own OpenSSH client (the peer our results are compared with). */
export function ssh(host: string, command: string): string {
  const l = lab();
  return execFileSync('ssh', ['-F', l.sshConfig, host, command], { encoding: 'utf8', maxBuffer: 1 << 28 });
}

/** `lab.sh up` (idempotent: it restarts what is not running, a stopped sshd among them). */
export function labUp(): void {
  execFileSync('bash', [path.resolve(__dirname, '../lab/lab.sh'), 'up'], { stdio: 'pipe', env: process.env });
}

/** Take a lab host down by stopping its sshd only (its pid file in the lab), waiting up to 5 s for it to go; `labUp` brings it back. */
export async function stopSshd(host: string): Promise<void> {
  const pid = Number(fs.readFileSync(path.join(lab().dir, 'hosts', host, 'sshd.pid'), 'utf8').trim());
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(pid, 0);
      await new Promise((r) => setTimeout(r, 100));
    } catch {
      return;
    }
  }
}

export const testLogger: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error: (m) => console.error(m) };

export function deps(overrides: Partial<TransportDeps> = {}): TransportDeps {
  const l = lab();
  return {
    logger: testLogger,
    sshConfigPath: l.sshConfig,
    knownHostsFiles: [l.knownHosts],
    connectTimeoutMs: 5000,
    onUnknownHostKey: async () => 'cancel',
    getPassphrase: async () => undefined,
    ...overrides,
  };
}

export function labFleet(hosts: string[], overrides: Partial<TransportDeps> = {}): Fleet {
  const f = new Fleet((spec) => createRunner(spec, deps(overrides)), { zfsPath: 'zfs', zpoolPath: 'zpool', commandTimeoutMs: 60_000 }, testLogger);
  f.setHosts(hosts);
  return f;
}
