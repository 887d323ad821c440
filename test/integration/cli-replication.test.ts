/**
 * The replication verbs of the zfs-fleet CLI (the built bundle) on the lab: seed 000 reproduced from
 * scratch and fixed through the product with `diagnose --fix --yes`, ending in sync with the same
 * files on both sides and the clone's own data kept; plans print and change nothing without --yes.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cliRun.js';
import { lab } from './lab.js';
import { DST, SNAPS, SRC, buildSeed000, destroyRoot, exists, md5Tree, q, randomRoot, sh, snapshotGuids, type Seed000 } from './replication/scenarios.js';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');
const history = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zf-hist-')), 'state');

function run(...args: string[]) {
  const l = lab();
  return runCli([cli, ...args, '--ssh-config', l.sshConfig, '--known-hosts', l.knownHosts], { ...process.env, XDG_STATE_HOME: history });
}

const NAME = randomRoot();
const R1 = `zfs-hdd/${NAME}`;
const R2 = `rpool/${NAME}`;
const SRC_DS = `${R1}/products`;
const DST_DS = `${R2}/products`;
const CLONE = `${R2}/clones/products`;
const [A] = SNAPS as [string];
const src = `${SRC}:${SRC_DS}`;
const dst = `${DST}:${DST_DS}`;
let stalled: Seed000['stalled'] | undefined;
let cloneFiles: Map<string, string>;

beforeAll(async () => {
  execFileSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'pipe' });
  // Seed 000 from scratch: pruned base, modified replica, a staging clone blocking the rollback, a stalled zfs recv.
  ({ stalled, cloneFiles } = await buildSeed000({ r1: R1, r2: R2, srcDs: SRC_DS, dstDs: DST_DS, clone: CLONE, cloneProperties: ['atime=off'] }));
}, 180_000);

afterAll(async () => {
  await stalled?.stop();
  await destroyRoot(DST, R2);
  await destroyRoot(SRC, R1);
}, 180_000);

describe('zfs-fleet replication verbs on seed 000', () => {
  it('status says why the pair is stuck', async () => {
    const r = await run('status', src, dst, '--json');
    expect(r.code).toBe(0);
    const st = JSON.parse(r.stdout) as { status: string; base: { source: string } };
    expect(st.status).toBe('target-has-newer');
    expect(st.base.source).toBe(`${SRC_DS}@${A}`);
  });

  it('plans print and change nothing without --yes', async () => {
    const before = snapshotGuids(DST, DST_DS);
    const r = await run('rollback', `${DST}:${DST_DS}@${A}`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/BLOCKED: .*clone .*clones\/products/);
    const s = await run('sync', src, dst);
    expect(s.code).toBe(0);
    // Blocked by the clone: the preview says so, and does not suggest --yes (which would fail).
    expect(s.stdout).toMatch(/BLOCKED: .*clone .*clones\/products/);
    expect(s.stdout).toMatch(/nothing changed: the plan is blocked/);
    expect(s.stdout).not.toMatch(/run again with --yes/);
    expect(snapshotGuids(DST, DST_DS)).toEqual(before);
    expect((await run('rebase', `${DST}:${CLONE}`, '--onto', `${DST}:${DST_DS}@${A}`)).code).toBe(2); // --keep-data or --drop-data is required
  });

  it('diagnose explains the chain of causes and its fix plan repairs the pair', async () => {
    const d = await run('diagnose', src, dst, '--stalled-after', '1');
    expect(d.code).toBe(0);
    expect(d.stdout).toMatch(/zfs recv/);
    expect(d.stdout).toMatch(/clone/);
    expect(d.stdout).toMatch(/Fix plan:/);
    const fix = await run('diagnose', src, dst, '--stalled-after', '1', '--fix', '--yes');
    expect(fix.stderr).not.toMatch(/failed:/);
    expect(fix.code).toBe(0);
    // in sync: same snapshots (guids) and same files on both sides
    const after = await run('status', src, dst, '--json');
    expect((JSON.parse(after.stdout) as { status: string }).status).toBe('in-sync');
    expect([...snapshotGuids(DST, DST_DS).values()]).toEqual([...snapshotGuids(SRC, SRC_DS).values()]);
    expect(md5Tree(DST, DST_DS)).toEqual(md5Tree(SRC, SRC_DS));
    // the clone was re-based (same name) and its own data kept in <clone>-pre-rebase-<date>
    expect(exists(DST, CLONE)).toBe(true);
    const copy = sh(DST, `zfs list -H -o name -r ${q(`${R2}/clones`)}`)
      .split('\n')
      .find((n) => n.startsWith(`${CLONE}-pre-rebase-`));
    expect(copy).toBeDefined();
    expect(md5Tree(DST, copy!)).toEqual(cloneFiles);
    const h = await run('history', '--json');
    expect((JSON.parse(h.stdout) as { outcome: string; kind: string }[])[0]).toMatchObject({ outcome: 'ok', kind: 'diagnose-fix' });
  }, 180_000);
});
