/**
 * The CLI's launcher (dist/cli.js, src/cli/launcher.ts) and its V8 code cache: what a user sees is
 * the same command with or without a cache, a cache is written once per verb and bundle, and a
 * damaged, foreign or unwritable cache costs only the compile. Needs the build (`node esbuild.mjs`),
 * no lab.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cliRun.js';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-launcher-'));

beforeAll(() => {
  execFileSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'pipe' });
});

function cacheHome(name: string): { env: NodeJS.ProcessEnv; dir: string } {
  const home = path.join(tmp, name);
  fs.mkdirSync(home, { recursive: true });
  return { env: { ...process.env, XDG_CACHE_HOME: home }, dir: path.join(home, 'zfs-fleet', 'v8') };
}
const files = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

describe('the CLI launcher and its code cache', () => {
  it('a first run writes the verb cache (0600 in a 0700 directory); the next run reads it and leaves it as it is', async () => {
    const { env, dir } = cacheHome('first');
    const first = await runCli([cli, 'help'], env);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/^usage: zfs-fleet <command> \[options\]/);
    const [file, ...more] = files(dir);
    expect(more).toEqual([]);
    expect(file).toMatch(/^[0-9a-f]{20}-help\.bin$/);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    const st = fs.statSync(path.join(dir, file!));
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.size).toBeGreaterThan(10_000);

    const again = await runCli([cli, 'help'], env);
    expect(again).toEqual(first);
    // Accepted by V8: not written again.
    expect(fs.statSync(path.join(dir, file!)).mtimeMs).toBe(st.mtimeMs);
    expect(files(dir)).toEqual([file]);

    // Another verb, its own file (what `ls` compiles is not what `help` does).
    const usage = await runCli([cli, 'ls'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^zfs-fleet: /);
    expect(files(dir)).toEqual([file!.replace('-help', '-ls'), file].sort());
  });

  it('a damaged cache file is rejected and written again; the command runs the same', async () => {
    const { env, dir } = cacheHome('damaged');
    const clean = await runCli([cli, 'help', 'sync'], env);
    const [file] = files(dir);
    const p = path.join(dir, file!);
    const garbage = Buffer.alloc(fs.statSync(p).size, 0x5a);
    fs.writeFileSync(p, garbage);
    const r = await runCli([cli, 'help', 'sync'], env);
    expect(r).toEqual(clean);
    expect(r.stdout).toMatch(/^usage: zfs-fleet sync /);
    expect(fs.readFileSync(p).equals(garbage)).toBe(false);
  });

  it("another bundle's cache files are removed when this one writes its own", async () => {
    const { env, dir } = cacheHome('foreign');
    fs.mkdirSync(dir, { recursive: true });
    const old = path.join(dir, '0123456789abcdef0123-ls.bin');
    fs.writeFileSync(old, 'old');
    const mine = path.join(dir, 'notes.txt');
    fs.writeFileSync(mine, 'not the cache');
    expect((await runCli([cli, 'help'], env)).code).toBe(0);
    expect(fs.existsSync(old)).toBe(false);
    expect(fs.existsSync(mine)).toBe(true);
  });

  it('an unwritable cache directory: the command runs, says nothing of it, and exits as before', async () => {
    const home = path.join(tmp, 'not-a-dir');
    fs.writeFileSync(home, 'a file where the cache directory would be');
    const r = await runCli([cli, 'help'], { ...process.env, XDG_CACHE_HOME: home });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^usage: zfs-fleet/);
  });

  it('the fleet store bundle loads through the launcher (store info on a new SQLite file)', async () => {
    const { env } = cacheHome('store');
    const db = path.join(tmp, 'launcher.db');
    for (let i = 0; i < 2; i++) {
      const r = await runCli([cli, 'store', 'info', '--store', db], env);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^kind: +sqlite$/m);
    }
  });
});
