/**
 * `zfs-fleet rollback HOST:DS@SNAP --destroy-clones` (the built CLI) on the lab: blocked without the
 * flag (nothing changes), printed with it (nothing changes without --yes), and with --yes ZFS
 * destroys exactly the objects the printed plan listed under "Destroys:".
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cliRun.js';
import { lab, ssh } from './lab.js';
import { DST, destroyRoot, makeSource, q, randomRoot, sh } from './replication/scenarios.js';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');
const history = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zf-hist-')), 'state');

function run(...args: string[]) {
  const l = lab();
  return runCli([cli, ...args, '--ssh-config', l.sshConfig, '--known-hosts', l.knownHosts], { ...process.env, XDG_STATE_HOME: history });
}

const ROOT = `rpool/${randomRoot()}`;
const FS = `${ROOT}/fs`;
const C1 = `${ROOT}/c1`;
const C2 = `${ROOT}/c2 with space`;
const state = () =>
  ssh(DST, `zfs list -H -o name -t all -r ${q(ROOT)}`)
    .split('\n')
    .filter(Boolean)
    .sort();

/** The `Destroys:` section of a printed plan, as names. */
function destroysOf(out: string): string[] {
  const lines = out.split('\n');
  const i = lines.indexOf('Destroys:');
  if (i < 0) return [];
  const names: string[] = [];
  for (const l of lines.slice(i + 1)) {
    const m = /^ {2}- ovh3: (.*?)( \((clone|dataset)\))?$/.exec(l);
    if (!m) break;
    names.push(m[1]!);
  }
  return names.sort();
}

beforeAll(async () => {
  execFileSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'pipe' });
  sh(DST, `zfs create ${q(ROOT)}`);
  await makeSource(FS, ['a', 'b', 'c', 'd'], { host: DST });
  sh(
    DST,
    [`zfs clone ${q(`${FS}@c`)} ${q(C1)}`, `zfs create ${q(`${C1}/child`)}`, `zfs snapshot -r ${q(`${C1}@x`)}`, `zfs clone ${q(`${C1}@x`)} ${q(C2)}`].join(
      '\n',
    ),
  );
}, 180_000);

afterAll(async () => {
  await destroyRoot(DST, ROOT);
}, 180_000);

describe('zfs-fleet rollback --destroy-clones', () => {
  it('without the flag the plan is blocked by the clone; with it, printed; nothing changes without --yes', async () => {
    const before = state();
    const blocked = await run('rollback', `${DST}:${FS}@b`);
    expect(blocked.code).toBe(0);
    expect(blocked.stdout).toMatch(/BLOCKED: .*clone .*c1/);
    const printed = await run('rollback', `${DST}:${FS}@b`, '--destroy-clones');
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(/nothing changed: run again with --yes/);
    expect(destroysOf(printed.stdout)).toEqual([`${FS}@c`, `${FS}@d`, C1, `${C1}@x`, `${C1}/child`, `${C1}/child@x`, C2].sort());
    expect(state()).toEqual(before);
  });

  it('with --yes, ZFS destroys exactly what the printed plan listed', async () => {
    const before = state();
    const listed = destroysOf((await run('rollback', `${DST}:${FS}@b`, '--destroy-clones')).stdout);
    const r = await run('rollback', `${DST}:${FS}@b`, '--destroy-clones', '--yes');
    expect(r.stderr).not.toMatch(/failed:/);
    expect(r.code).toBe(0);
    const after = state();
    expect(before.filter((n) => !after.includes(n)).sort()).toEqual(listed);
    expect(after).toEqual([ROOT, FS, `${FS}@a`, `${FS}@b`].sort());
  });
});
