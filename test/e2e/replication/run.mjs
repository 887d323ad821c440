#!/usr/bin/env node
// The replication commands' mocha suite (test/e2e/replication/suite/) inside code-server's extension
// host, against the lab. Builds the extension (dev build, dist/extension.js) and bundles the suite
// (out/e2e/replication/), writes a workspace with a `.zfs-fleet.json`, and runs the payload route
// (test/e2e/lib/codeServer.mjs runExtensionTests) with ZFS_FLEET_TEST=1 (the extension then returns
// its test API from activate()). The suite creates its datasets under zfs-hdd/e2e-repl-<hex> (off1)
// and rpool/e2e-repl-<hex> (ovh3) and destroys them; this runner destroys them again if it crashed.
//
//   node test/e2e/replication/run.mjs [--no-build] [--no-lab-up] [--grep PATTERN] [--keep]
//
// Last line: `N passed, N failed`.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runExtensionTests } from '../lib/codeServer.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');
const { values: opts } = parseArgs({
  allowNegative: true,
  options: {
    build: { type: 'boolean', default: true },
    'lab-up': { type: 'boolean', default: true },
    grep: { type: 'string' },
    keep: { type: 'boolean', default: false },
    lab: { type: 'string', default: process.env.ZFS_FLEET_LAB || '/tmp/zfs-fleet-lab' },
  },
});
const LAB = path.resolve(opts.lab);
const t0 = Date.now();
const log = (m) => console.log(`[replication e2e ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${m}`);

function sh(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: repo, stdio: 'inherit', ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

function fail(msg) {
  console.log(`FAIL ${msg}\n0 passed, 1 failed`);
  process.exit(1);
}

if (opts['lab-up'] && existsSync(path.join(repo, 'test', 'lab', 'lab.sh'))) {
  log('bash test/lab/lab.sh up');
  try {
    sh('bash', [path.join(repo, 'test', 'lab', 'lab.sh'), 'up'], { env: { ...process.env, ZFS_FLEET_LAB: LAB } });
  } catch (e) {
    fail(`the lab did not come up: ${e.message}`);
  }
}
if (!existsSync(path.join(LAB, 'lab.json'))) fail(`the lab is not up (no ${LAB}/lab.json): run \`bash test/lab/lab.sh up\``);

if (opts.build) {
  log('npm run build');
  sh('npm', ['run', 'build', '--silent']);
}
const out = path.join(repo, 'out', 'e2e', 'replication', 'suite');
log(`bundling the suite into ${path.relative(repo, out)}`);
const esbuild = await import('esbuild');
await esbuild.build({
  entryPoints: [path.join(here, 'suite', 'index.ts'), path.join(here, 'suite', 'replication.test.ts'), path.join(here, 'suite', 'timeline.test.ts')],
  outdir: out,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  external: ['vscode', 'mocha'],
  logLevel: 'warning',
});

const root = `e2e-repl-${randomBytes(3).toString('hex')}`;
const src = `zfs-hdd/${root}/src data`;
const dst = `rpool/${root}/dst`;
// The workspace an infra repository would be: a committed .zfs-fleet.json with a valid pair, an
// invalid entry, and an entry the user settings override (same source and target).
const workspace = mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-repl-ws-'));
writeFileSync(
  path.join(workspace, '.zfs-fleet.json'),
  JSON.stringify(
    {
      pairs: [
        { source: `off1:${src}`, target: `ovh3:${dst}`, label: 'file version' },
        { source: `off1:${src}`, target: `ovh3:rpool/${root}/fromfile`, label: 'from file' },
        { source: 'off1', target: `ovh3:rpool/${root}/x` },
      ],
      // A host only the fleet file names (the Hosts view shows it), and a group of two replicas.
      hosts: { off2: { labels: ['e2e'] } },
      groups: [{ name: 'e2e-fanout', primary: `off1:${src}`, replicas: [`ovh3:rpool/${root}/g1`, `off2:zfs-nvme/${root}/g2`] }],
    },
    null,
    2,
  ),
);

function cleanupLab() {
  for (const [host, dataset] of [
    ['ovh3', `rpool/${root}`],
    ['off1', `zfs-hdd/${root}`],
  ]) {
    try {
      execFileSync(
        'ssh',
        ['-F', path.join(LAB, 'ssh_config'), host, `zfs list -H -o name '${dataset}' >/dev/null 2>&1 && zfs destroy -r -R '${dataset}' || true`],
        { stdio: 'ignore' },
      );
    } catch {
      // best effort; the suite's own teardown retries while zfs-fuse says busy
    }
  }
}

log(`root ${root}; workspace ${workspace}`);
let passed = 0;
let failed = 0;
try {
  const { code, logs, timings } = await runExtensionTests({
    extensionDevelopmentPath: repo,
    extensionTestsPath: path.join(out, 'index.js'),
    folder: workspace,
    env: { ZFS_FLEET_TEST: '1', ZFS_FLEET_LAB: LAB, ZFS_FLEET_E2E_ROOT: root, ...(opts.grep ? { ZFS_FLEET_E2E_GREP: opts.grep } : {}) },
    settings: {
      'zfsFleet.hosts': ['off1', 'ovh3'],
      'zfsFleet.sshConfigPath': path.join(LAB, 'ssh_config'),
      'zfsFleet.knownHostsPath': path.join(LAB, 'known_hosts'),
      'zfsFleet.pairs': [
        { source: `off1:${src}`, target: `ovh3:${dst}`, label: 'e2e sync' },
        { source: `off1:zfs-hdd/${root}/a`, target: `ovh3:rpool/${root}/b`, route: 'sideways' },
      ],
    },
    timeout: 15 * 60_000,
    keepProfile: opts.keep,
    onLog: (line) => process.stdout.write(`   | ${line.replace(/\n/g, '\n   | ')}\n`),
  });
  const result = logs
    .map((l) => /RESULT passed=(\d+) failed=(\d+)/.exec(l.text))
    .filter(Boolean)
    .pop();
  passed = result ? Number(result[1]) : 0;
  failed = result ? Number(result[2]) : code === 0 ? 0 : 1;
  log(`extension tests exit ${code}; server start ${timings.serverStartMs} ms, run ${timings.runMs} ms`);
  if (code !== 0 && failed === 0) failed = 1;
} catch (e) {
  console.log(`FAIL the suite could not run: ${e.message}`);
  failed++;
} finally {
  cleanupLab();
  if (!opts.keep) rmSync(workspace, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
