/**
 * The newest common snapshot of a pair is never destroyed by the CLI without its dataset's name:
 * a pair off1 -> ovh3 in a pairs file, synced by the CLI; `zfs-fleet rollback` of the target past
 * the base says so and, with --yes alone, refuses (nothing changes); with --confirm-base DATASET it
 * runs, and the pair's next base is the older snapshot the preview named.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cliRun.js';
import { lab } from './lab.js';
import { DST, SRC, destroyRoot, makeSource, q, randomRoot, sh, snapshotNames } from './replication/scenarios.js';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zf-base-'));
const pairs = path.join(tmp, 'pairs.json');
const R = randomRoot();
const S = `zfs-hdd/${R}/fs`;
const T = `rpool/${R}/fs`;

function run(...args: string[]) {
  const l = lab();
  const withPairs = args[0] === 'status' ? [] : ['--pairs', pairs];
  return runCli([cli, ...args, '--ssh-config', l.sshConfig, '--known-hosts', l.knownHosts, ...withPairs], {
    ...process.env,
    XDG_STATE_HOME: tmp,
    XDG_CACHE_HOME: tmp,
  });
}

beforeAll(async () => {
  execFileSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'pipe' });
  fs.writeFileSync(pairs, JSON.stringify({ pairs: [{ source: `${SRC}:${S}`, target: `${DST}:${T}`, label: 'base guard' }] }));
  await makeSource(S, ['a', 'b', 'c']);
  sh(DST, `zfs create -p ${q(`rpool/${R}`)}`);
  const synced = await run('sync', `${SRC}:${S}`, `${DST}:${T}`, '--yes');
  expect(synced.code, synced.stderr).toBe(0);
}, 240_000);

afterAll(async () => {
  await destroyRoot(DST, `rpool/${R}`);
  await destroyRoot(SRC, `zfs-hdd/${R}`);
}, 180_000);

describe('zfs-fleet and the newest common snapshot', () => {
  it('the preview names the pair, the base and the next base; --yes alone refuses and changes nothing', async () => {
    const preview = await run('rollback', `${DST}:${T}@b`);
    expect(preview.code).toBe(0);
    expect(preview.stdout).toMatch(
      new RegExp(
        `BASE LOST: ovh3: this destroys ${T}@c, the newest common snapshot of the pair base guard .*the next sync starts from the older common snapshot ${S}@b`,
      ),
    );
    expect(preview.stdout).toContain(`--confirm-base ${T}`);
    const refused = await run('rollback', `${DST}:${T}@b`, '--yes');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused: .*newest common snapshot.*--confirm-base/);
    expect(snapshotNames(DST, T)).toEqual([`${T}@a`, `${T}@b`, `${T}@c`]);
    const wrong = await run('rollback', `${DST}:${T}@b`, '--yes', '--confirm-base', `rpool/${R}`);
    expect(wrong.code).toBe(1);
    expect(snapshotNames(DST, T)).toEqual([`${T}@a`, `${T}@b`, `${T}@c`]);
  }, 240_000);

  it('with --confirm-base DATASET it runs; the pair is then one snapshot behind, from @b', async () => {
    const ok = await run('rollback', `${DST}:${T}@b`, '--yes', '--confirm-base', T);
    expect(ok.code, ok.stderr).toBe(0);
    expect(snapshotNames(DST, T)).toEqual([`${T}@a`, `${T}@b`]);
    const st = await run('status', `${SRC}:${S}`, `${DST}:${T}`);
    expect(st.stdout).toMatch(/behind/);
  }, 240_000);
});
