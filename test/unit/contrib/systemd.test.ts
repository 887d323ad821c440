/**
 * The systemd units of contrib/systemd pass `systemd-analyze verify` (skipped where it is not
 * installed: `apt-get install systemd`). verify refuses a unit whose ExecStart binary is missing, so
 * it runs in a scratch root holding an executable at /usr/local/bin/zfs-fleet and the targets the
 * units name.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const units = path.resolve(__dirname, '../../../contrib/systemd');
const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe.skipIf(!analyze)('contrib/systemd', () => {
  it('every unit passes systemd-analyze verify; the agent runs as its own user, hardened, restarted on failure', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-units-'));
    try {
      fs.mkdirSync(path.join(root, 'usr/local/bin'), { recursive: true });
      fs.writeFileSync(path.join(root, 'usr/local/bin/zfs-fleet'), '#!/bin/sh\n', { mode: 0o755 });
      const lib = path.join(root, 'usr/lib/systemd/system');
      const etc = path.join(root, 'etc/systemd/system');
      fs.mkdirSync(lib, { recursive: true });
      fs.mkdirSync(etc, { recursive: true });
      for (const t of ['multi-user.target', 'timers.target', 'network-online.target', 'basic.target', 'sysinit.target'])
        if (fs.existsSync(`/usr/lib/systemd/system/${t}`)) fs.copyFileSync(`/usr/lib/systemd/system/${t}`, path.join(lib, t));
      const files = fs.readdirSync(units).filter((f) => /\.(service|timer)$/.test(f));
      expect(files.sort()).toEqual([
        'zfs-fleet-agent-once.service',
        'zfs-fleet-agent-once.timer',
        'zfs-fleet-agent.service',
        'zfs-fleet-metrics.service',
        'zfs-fleet-metrics.timer',
        'zfs-fleet-worker.service',
      ]);
      for (const f of files) fs.copyFileSync(path.join(units, f), path.join(etc, f));
      const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, ...files], { cwd: etc, encoding: 'utf8' });
      expect(r.stderr.trim()).toBe('');
      expect(r.status).toBe(0);
      const agent = fs.readFileSync(path.join(units, 'zfs-fleet-agent.service'), 'utf8');
      for (const line of ['User=zfs-fleet', 'Restart=on-failure', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'StateDirectory=zfs-fleet'])
        expect(agent).toContain(`\n${line}\n`);
      expect(agent).toMatch(/^ExecStart=\/usr\/local\/bin\/zfs-fleet agent --interval 60s /m);
      const worker = fs.readFileSync(path.join(units, 'zfs-fleet-worker.service'), 'utf8');
      for (const line of ['User=zfs-fleet', 'Restart=on-failure', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'KillSignal=SIGTERM'])
        expect(worker).toContain(`\n${line}\n`);
      expect(worker).toMatch(/^ExecStart=\/usr\/local\/bin\/zfs-fleet worker --parallel 2 --per-host 1 /m);
      const exposure = execFileSync('systemd-analyze', ['security', '--offline=yes', `--root=${root}`, 'zfs-fleet-agent.service'], {
        cwd: etc,
        encoding: 'utf8',
      });
      expect(Number(/Overall exposure level for zfs-fleet-agent\.service: ([\d.]+)/.exec(exposure)![1])).toBeLessThan(2);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
