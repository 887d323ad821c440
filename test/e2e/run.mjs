#!/usr/bin/env node
// `npm run test:e2e`: everything end to end in a real VS Code (code-server + headless Chromium).
//   1. scripts/install-code-server.sh (idempotent; seconds when already installed)
//   2. the payload-route self-check (sample mocha suite inside code-server's extension host,
//      passing and deliberately failing)
//   3. the smoke test of the packaged extension against the ZFS lab (builds the .vsix with
//      `npm run package` when it is missing; options after `--` go to smoke.mjs)
// Closing line: the sum of both suites' `N passed, N failed`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const smokeArgs = process.argv.slice(2).filter((a) => a !== '--');
if (!existsSync(path.join(repo, 'dist', 'zfs-fleet.vsix')) && !smokeArgs.includes('--build') && !smokeArgs.some((a) => a.startsWith('--vsix'))) {
  smokeArgs.push('--build');
}

function step(cmd, args) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
    let last = '';
    p.stdout.on('data', (d) => {
      process.stdout.write(d);
      last = (last + d.toString()).split('\n').slice(-6).join('\n');
    });
    p.on('exit', (code) => {
      const m = /(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$/.exec(last.trim());
      resolve({ code, passed: m ? Number(m[1]) : 0, failed: m ? Number(m[2]) : code === 0 ? 0 : 1, skipped: m?.[3] ? Number(m[3]) : 0 });
    });
  });
}

const t0 = Date.now();
let passed = 0;
let failed = 0;
let skipped = 0;
const install = await step('bash', [path.join(repo, 'scripts', 'install-code-server.sh')]);
if (install.code !== 0) {
  console.log('\ncode-server could not be installed');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
for (const [name, args] of [
  ['payload route self-check', [path.join(here, 'sample-suite', 'run.mjs'), '--check-failure']],
  ['smoke test', [path.join(here, 'smoke.mjs'), ...smokeArgs]],
]) {
  console.log(`\n==== e2e: ${name}`);
  const r = await step(process.execPath, args);
  passed += r.passed;
  failed += r.failed;
  skipped += r.skipped;
}
console.log(`\ne2e total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed ? 1 : 0);
