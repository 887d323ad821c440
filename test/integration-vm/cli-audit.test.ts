/** `zfs-fleet audit` (the built CLI) for seed 001's unprivileged operator against the OpenZFS VM. */
import { execFileSync } from 'node:child_process';
import { runCli } from '../integration/cliRun.js';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ssh, vm } from './vm.js';

const root = path.resolve(__dirname, '../..');
const cli = (...args: string[]) => {
  const v = vm();
  return runCli([path.join(root, 'dist/cli.js'), ...args, '--ssh-config', v.sshConfig, '--known-hosts', v.knownHosts]);
};

beforeAll(() => {
  execFileSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'pipe' });
});

describe('zfs-fleet audit', () => {
  it('a relay by the operator: send on tank, receive into backup, nothing lacking', async () => {
    const r = await cli('audit', 'zfsvm-operator:tank/off/products', 'zfsvm-operator:backup/off/products');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^source .* as operator .*: ok \(.*send.*\)$/m);
    expect(r.stdout).toMatch(/^target .* as operator .*: ok \(.*receive.*\)$/m);
    expect(r.stdout).toMatch(/zfs recv -u/);
  });

  it('names what is lacking, with the zfs allow that fixes it, and exits 1', async () => {
    ssh('zfsvm', 'zfs unallow -u operator send tank');
    try {
      const r = await cli('audit', 'zfsvm-operator:tank/off/products', 'zfsvm-operator:backup/off/products', '--json');
      expect(r.code).toBe(1);
      const audit = JSON.parse(r.stdout) as { ok: boolean; reports: { role: string; lacking: string[]; fix?: { command: string } }[] };
      expect(audit.ok).toBe(false);
      const src = audit.reports.find((x) => x.lacking.length > 0)!;
      expect(src.lacking).toContain('send');
      expect(JSON.stringify(src)).toMatch(/zfs allow -u operator [^"]*send[^"]* tank/);
    } finally {
      ssh('zfsvm', 'zfs allow -u operator hold,send tank');
    }
    expect(ssh('zfsvm', 'zfs allow tank')).toMatch(/user operator hold,send/);
  });
});
