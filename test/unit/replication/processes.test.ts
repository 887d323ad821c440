/** ps / fuser output recorded on the lab; the kill script run for real on local processes. */
import { execFile, spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  findZfsStreamProcesses,
  formatDuration,
  killArgv,
  mountUsersCommand,
  parseMountUsers,
  parseProcessList,
  processListCommand,
} from '../../../src/core/replication/processes.js';
import { R2, fixture } from './fixtures.js';

const ps = parseProcessList(fixture('seed000.ovh3.ps.txt'));

describe('processes', () => {
  it('parses every line of the recorded ps', () => {
    const lines = fixture('seed000.ovh3.ps.txt')
      .split('\n')
      .filter((l) => l.trim() !== '');
    expect(ps).toHaveLength(lines.length);
    expect(processListCommand().argv).toEqual(['ps', '-ww', '-eo', 'pid=,ppid=,etimes=,args=']);
  });

  it('finds the stalled zfs recv of the pair, not the shells around it nor other datasets', () => {
    const found = findZfsStreamProcesses(ps, [`${R2}/seed000/products`]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ verb: 'recv', dataset: `${R2}/seed000/products`, args: `zfs recv -F ${R2}/seed000/products` });
    expect(found[0]!.elapsedSeconds).toBeGreaterThan(10);
    // a prefix of the name is another dataset
    expect(findZfsStreamProcesses(ps, [`${R2}/seed000/prod`])).toEqual([]);
    expect(findZfsStreamProcesses(ps, [`${R2}/seed000/products`], ['send'])).toEqual([]);
  });

  it('names with spaces, snapshots, full paths and sudo', () => {
    const made = parseProcessList(
      [
        '  10     1   100 /usr/sbin/zfs send -I pool/my data@a pool/my data@b',
        '  11     1   100 sudo zfs receive -s pool/my data',
        '  12     1   100 zfs send pool/my data-2@a',
      ].join('\n'),
    );
    expect(findZfsStreamProcesses(made, ['pool/my data']).map((p) => [p.pid, p.verb])).toEqual([
      [10, 'send'],
      [11, 'recv'],
    ]);
  });

  it('mount users: what fuser + ps printed on the lab', () => {
    const u = parseMountUsers(fixture('seed000.ovh3.mount-users.txt'));
    expect(u.tool).toBe('fuser');
    expect(u.processes).toHaveLength(1);
    expect(u.processes[0]).toMatchObject({ user: 'root' });
    expect(u.processes[0]!.args).toMatch(/^sleep 120\.\d+$/);
    expect(mountUsersCommand('/rpool/my data').argv.slice(-2)).toEqual(['zfs-fleet-mount-users', '/rpool/my data']);
    expect(parseMountUsers('tool none\n')).toEqual({ tool: 'none', processes: [] });
  });

  it('durations', () => {
    expect([formatDuration(42), formatDuration(600), formatDuration(7 * 3600), formatDuration(3 * 86400)]).toEqual(['42s', '10m', '7h', '3d']);
  });
});

function run(argv: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), (e, out, err) => resolve({ code: e ? ((e as { code?: number }).code ?? null) : 0, out, err }));
  });
}

describe('the kill step (run locally)', () => {
  it('stops the process when its command line is unchanged', async () => {
    const child = spawn('sleep', ['30.5']);
    await new Promise((r) => setTimeout(r, 100));
    const r = await run(killArgv(child.pid!, 'sleep 30.5'));
    expect(r.code).toBe(0);
    expect(r.out).toContain('stopped');
    expect(child.killed || child.exitCode !== null || child.signalCode !== null).toBe(true);
  });

  it('refuses when the pid now runs something else, and succeeds when it has already exited', async () => {
    const child = spawn('sleep', ['30.25']);
    await new Promise((r) => setTimeout(r, 100));
    const r = await run(killArgv(child.pid!, 'zfs recv -F pool/x'));
    expect(r.code).toBe(3);
    expect(r.err).toContain('not killed');
    child.kill();
    await new Promise((r2) => child.on('exit', r2));
    const gone = await run(killArgv(child.pid!, 'sleep 30.25'));
    expect(gone.code).toBe(0);
    expect(gone.out).toContain('already exited');
  });
});
