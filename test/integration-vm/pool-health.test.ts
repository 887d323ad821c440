/**
 * Pool health and scrubs, live (issue 10 §6) on OpenZFS 2.3, through the built `dist/cli.js`: a pool
 * whose only vdev was overwritten while exported, then scrubbed (`zpool status`: checksum errors,
 * `errors: N data errors`), and a mirror with one side offline (DEGRADED): `check` CRITICAL naming
 * both, `metrics` with the data errors and the last scrub, and both well again once mended (the
 * mirror's side back online; the damaged pool destroyed). Scratch pools zf-it10-* on files in
 * /var/tmp, destroyed in afterAll.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../integration/cliRun.js';
import { ssh, sshAsync, sshTry, vm } from './vm.js';

const root = path.resolve(__dirname, '../..');
const cli = (...args: string[]) => {
  const v = vm();
  return runCli([path.join(root, 'dist/cli.js'), ...args, '--ssh-config', v.sshConfig, '--known-hosts', v.knownHosts, '--timeout', '60']);
};
const SCRATCH = 'for p in zf-it10-scrub zf-it10-mirror; do zpool destroy -f "$p" 2>/dev/null; done; rm -f /var/tmp/zf-it10-*.img; true';

beforeAll(async () => {
  execFileSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'pipe' });
  await sshAsync('zfsvm', SCRATCH);
  await sshAsync(
    'zfsvm',
    `set -e
truncate -s 256M /var/tmp/zf-it10-scrub.img /var/tmp/zf-it10-m1.img /var/tmp/zf-it10-m2.img
zpool create -O compression=off zf-it10-scrub /var/tmp/zf-it10-scrub.img
zpool create zf-it10-mirror mirror /var/tmp/zf-it10-m1.img /var/tmp/zf-it10-m2.img
head -c 96M /dev/urandom >/zf-it10-scrub/a.bin
sync
zpool export zf-it10-scrub
dd if=/dev/urandom of=/var/tmp/zf-it10-scrub.img bs=1M seek=48 count=96 conv=notrunc status=none
zpool import -d /var/tmp zf-it10-scrub
zpool scrub -w zf-it10-scrub
zpool offline zf-it10-mirror /var/tmp/zf-it10-m2.img`,
  );
}, 300_000);

afterAll(() => {
  sshTry('zfsvm', SCRATCH);
}, 120_000);

describe('pool health and scrubs (OpenZFS 2.3)', () => {
  it('check: the damaged pool CRITICAL with its data errors and its last scrub; the DEGRADED mirror CRITICAL', async () => {
    const errors = Number(ssh('zfsvm', "zpool status zf-it10-scrub | sed -n 's/^errors: \\([0-9]*\\) data errors.*/\\1/p'").trim());
    expect(errors).toBeGreaterThan(0);
    const r = await cli('check', 'zfsvm', '--stale-after', '100000d', '--json');
    expect(r.code, r.stderr).toBe(2);
    const report = JSON.parse(r.stdout) as { findings: { severity: string; kind: string; subject: string; message: string }[] };
    const pools = report.findings.filter((f) => f.subject.startsWith('zfsvm:zf-it10-'));
    expect(pools).toContainEqual(
      expect.objectContaining({
        severity: 'critical',
        kind: 'pool-errors',
        subject: 'zfsvm:zf-it10-scrub',
        message: expect.stringMatching(
          new RegExp(
            `^zfsvm:zf-it10-scrub: ${errors} data errors; its last scrub \\(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC\\) found \\d+ errors it could not repair`,
          ),
        ),
      }),
    );
    expect(pools).toContainEqual(
      expect.objectContaining({
        severity: 'critical',
        kind: 'pool-health',
        subject: 'zfsvm:zf-it10-mirror',
        message: 'zfsvm:zf-it10-mirror: pool is DEGRADED (not ONLINE)',
      }),
    );
    // The VM's own pools, scrubbed or not, have no finding of this kind.
    expect(report.findings.filter((f) => f.kind === 'pool-errors').map((f) => f.subject)).toEqual(['zfsvm:zf-it10-scrub']);
  }, 180_000);

  it('metrics: the data errors, the last scrub and its errors', async () => {
    const r = await cli('metrics', 'zfsvm');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^zfs_fleet_pool_data_errors\{host="zfsvm",pool="zf-it10-scrub"\} [1-9]\d*$/m);
    expect(r.stdout).toMatch(/^zfs_fleet_pool_data_errors\{host="zfsvm",pool="zf-it10-mirror"\} 0$/m);
    expect(r.stdout).toMatch(/^zfs_fleet_pool_last_scrub_errors\{host="zfsvm",pool="zf-it10-scrub"\} [1-9]\d*$/m);
    const at = Number(/^zfs_fleet_pool_last_scrub_timestamp_seconds\{host="zfsvm",pool="zf-it10-scrub"\} (\d+)$/m.exec(r.stdout)![1]);
    // The scrub ran in beforeAll, minutes ago at most (the VM's clock is the host's).
    expect(Math.abs(Date.now() / 1000 - at)).toBeLessThan(3600);
    expect(r.stdout).toMatch(/^zfs_fleet_pool_healthy\{host="zfsvm",pool="zf-it10-mirror",health="DEGRADED"\} 0$/m);
  }, 180_000);

  it('mended: the mirror ONLINE again and the damaged pool gone, check has nothing to say of them', async () => {
    ssh('zfsvm', 'zpool online zf-it10-mirror /var/tmp/zf-it10-m2.img && zpool destroy -f zf-it10-scrub');
    const r = await cli('check', 'zfsvm', '--stale-after', '100000d', '--json');
    const report = JSON.parse(r.stdout) as { findings: { severity: string; kind: string; subject: string }[] };
    expect(report.findings.filter((f) => f.subject.startsWith('zfsvm:zf-it10-') && f.severity !== 'ok')).toEqual([]);
  }, 180_000);
});
