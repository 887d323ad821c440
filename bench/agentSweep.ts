/**
 * One agent sweep (issue 10 §5), as a ratio against a peer run in the same invocation:
 * `zfs-fleet agent --once` over N hosts (each lab host under BENCH_ALIASES ssh aliases: 3 x 10 = 30
 * hosts by default, each its own connection), which lists every host (`zfs get`/`zfs list`,
 * `zpool list`, `zpool status` in one remote command), judges the facts and writes the sweep to a
 * SQLite store in one transaction, vs `xargs -P CONCURRENCY` of OpenSSH running the same three
 * commands on each host into /dev/null (no parsing, no store). Both open a new connection per host
 * (the agent is a new process each run; its capability cache is warm, as after its first sweep).
 * Needs the zfs-fuse lab; `node esbuild.mjs --bench && node dist/bench/agentSweep.js`
 * (BENCH_ALIASES, BENCH_RUNS, BENCH_CONCURRENCY).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listAllCommand, zpoolListCommand } from '../src/core/zfs/commands.js';
import { zpoolStatusCommand } from '../src/core/zfs/poolStatus.js';
import { probeCapabilities } from '../src/core/zfs/capabilities.js';
import { shellJoin } from '../src/core/zfs/quote.js';
import { createRunner } from '../src/transport/index.js';
import { silentLogger } from '../src/core/log.js';
import { alternate, median, secs } from './proc.js';

const root = path.resolve(__dirname, '../..');
const lab = process.env.ZFS_FLEET_LAB ?? '/tmp/zfs-fleet-lab';
const ALIASES = Number(process.env.BENCH_ALIASES ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const LAB_HOSTS = ['off1', 'ovh3', 'off2'];

async function main(): Promise<void> {
  const labConfig = path.join(lab, 'ssh_config');
  const knownHosts = path.join(lab, 'known_hosts');
  if (!fs.existsSync(labConfig)) throw new Error(`no lab at ${lab}: run bash test/lab/lab.sh up`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zf-bench-agent-'));
  // Aliases of the lab's hosts: the same sshd, a host name (and connection) of its own each.
  const blocks = fs.readFileSync(labConfig, 'utf8').split(/\n(?=Host )/);
  const hosts: string[] = [];
  let config = fs.readFileSync(labConfig, 'utf8');
  for (const h of LAB_HOSTS) {
    const block = blocks.find((b) => b.startsWith(`Host ${h}\n`));
    if (!block) throw new Error(`no Host ${h} in ${labConfig}`);
    for (let i = 1; i <= ALIASES; i++) {
      const alias = `${h}-b${i}`;
      hosts.push(alias);
      config += `\n${block.replace(`Host ${h}\n`, `Host ${alias}\n`).trimEnd()}\n`;
    }
  }
  const sshConfig = path.join(tmp, 'ssh_config');
  fs.writeFileSync(sshConfig, config);

  // The commands the agent runs on each host, for the peer (a host's listing command depends on its ZFS).
  const runner = createRunner('off1', {
    logger: silentLogger,
    sshConfigPath: labConfig,
    knownHostsFiles: [knownHosts],
    onUnknownHostKey: async () => 'cancel',
    getPassphrase: async () => undefined,
  });
  const caps = await probeCapabilities(runner, { zfsPath: 'zfs', zpoolPath: 'zpool', timeoutMs: 60_000 });
  await runner.dispose();
  const remote = [listAllCommand(caps, 'zfs').argv, zpoolListCommand(caps, 'zpool').argv, zpoolStatusCommand('zpool').argv].map(shellJoin).join('; ');

  const cli = path.join(root, 'dist/cli.js');
  const env = { ...process.env, XDG_CACHE_HOME: path.join(tmp, 'cache'), XDG_STATE_HOME: path.join(tmp, 'state') };
  const store = path.join(tmp, 'fleet.db');
  let datasets = 0;
  const ours: number[] = [];
  const peer: number[] = [];
  const runOurs = () => {
    const t = performance.now();
    const r = spawnSync(
      process.execPath,
      [cli, 'agent', '--once', '--store', store, '--concurrency', String(CONCURRENCY), '--ssh-config', sshConfig, '--known-hosts', knownHosts, ...hosts],
      { encoding: 'utf8', env },
    );
    ours.push(performance.now() - t);
    console.log(`  agent --once: ${secs(ours.at(-1)!)} s`);
    const line = /sweep 1 \(#\d+\): (\d+)\/(\d+) hosts up, \d+ pools, (\d+) datasets/.exec(r.stderr);
    if (r.status !== 0 || !line || line[1] !== line[2]) throw new Error(`agent failed (${r.status}): ${r.stderr}`);
    datasets = Number(line[3]);
  };
  const runPeer = () => {
    const t = performance.now();
    const r = spawnSync(
      'sh',
      ['-c', `printf '%s\\n' "$@" | xargs -P ${CONCURRENCY} -I{} ssh -F ${shellJoin([sshConfig])} {} ${shellJoin([remote])} > /dev/null`, 'peer', ...hosts],
      { encoding: 'utf8' },
    );
    peer.push(performance.now() - t);
    console.log(`  xargs -P ${CONCURRENCY} ssh: ${secs(peer.at(-1)!)} s`);
    if (r.status !== 0) throw new Error(`xargs ssh failed (${r.status}): ${r.stderr}`);
  };
  // Once before timing: every host's probe goes to the capability cache, as after the agent's first sweep.
  runOurs();
  console.log('  (that one untimed: it filled the capability cache)');
  ours.length = 0;
  alternate(RUNS, runOurs, runPeer);
  const ratio = median(ours) / median(peer);
  console.log(
    `agent sweep of ${hosts.length} hosts (${datasets} datasets, written to SQLite in one transaction) at concurrency ${CONCURRENCY}: ` +
      `zfs-fleet agent --once median ${median(ours).toFixed(0)} ms vs xargs -P ${CONCURRENCY} ssh (the same commands, output discarded) ${median(peer).toFixed(0)} ms over ${RUNS} runs -> ratio ${ratio.toFixed(2)}x`,
  );
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});
