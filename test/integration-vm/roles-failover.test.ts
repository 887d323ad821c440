/**
 * Issue 12 on OpenZFS 2.3 (the built dist/cli.js over the product's ssh): a group tank -> backup on
 * the VM, whose first sync receives the replica read-only with its role (OpenZFS reports
 * `readonly=on`, which zfs-fuse does not); `check` warns of a replica made writable by hand and
 * `roles` fixes it; a failover there and back with every file's md5 compared; a takeover while the
 * primary's host cannot be reached (an ssh alias of the VM on a closed port), its return as split
 * brain (the alias mended in the fleet file) and its demotion with the divergent data kept; an
 * encrypted source sent raw into a replica whose key is not loaded, incrementally after; a recursive
 * group whose `exclude` leaves two children out (`zfs send -R -X`), full then incremental.
 * Datasets tank/it12-* and backup/it12-*, destroyed in afterAll.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/core/replication/plan.js';
import { runCli } from '../integration/cliRun.js';
import { md5Files, snapshotGuids, ssh, sshTry, vm } from './vm.js';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zf-it12-'));
const fleetFile = path.join(tmp, 'fleet.json');
const sshConfig = path.join(tmp, 'ssh_config');
const P = 'tank/it12-fo';
const T = 'backup/it12-fo';
const ENC = 'tank/it12-enc';
const ENC_T = 'backup/it12-enc';
const DEC_T = 'backup/it12-dec';
const MV = 'tank/it12-mv';
const MV_T = 'backup/it12-mv';
const KEY = '/root/it12.key';
const X = 'tank/it12-x';
const X_T = 'backup/it12-x';

function env(): NodeJS.ProcessEnv {
  return { ...process.env, XDG_CACHE_HOME: path.join(tmp, 'cache'), XDG_STATE_HOME: path.join(tmp, 'state') };
}
const run = (...args: string[]) =>
  runCli([cli, ...args, '--fleet', fleetFile, '--ssh-config', sshConfig, '--known-hosts', vm().knownHosts, '--timeout', '30'], env());
const planOf = (stdout: string) => (JSON.parse(stdout) as { plan: Plan }).plan;
const get = (prop: string, ds: string) => ssh('zfsvm', `zfs get -H -o value,source ${prop} ${ds}`).trim();
const write = (ds: string, name: string, text: string) => ssh('zfsvm', `printf '%s\\n' '${text}' > "$(zfs get -H -o value mountpoint ${ds})/${name}"`);
const group = (primary: string, replica: string) =>
  fs.writeFileSync(
    fleetFile,
    JSON.stringify(
      {
        groups: [{ name: 'it12', primary, replicas: [replica] }],
        pairs: [
          { source: `zfsvm:${ENC}`, target: `zfsvm:${ENC_T}`, label: 'it12 encrypted' },
          { source: `zfsvm:${ENC}`, target: `zfsvm:${DEC_T}`, label: 'it12 decrypted', options: { decrypt: true } },
          { source: `zfsvm:${MV}/app`, target: `zfsvm:${MV_T}/app` },
        ],
      },
      null,
      2,
    ) + '\n',
  );
const fileGroup = () => (JSON.parse(fs.readFileSync(fleetFile, 'utf8')) as { groups: { primary: string; replicas: string[] }[] }).groups[0]!;
const newest = (ds: string) => snapshotGuids(ds).at(-1)!;

function cleanup(): void {
  sshTry(
    'zfsvm',
    `for d in ${P} ${T} ${ENC} ${ENC_T} ${DEC_T} ${MV} ${MV_T} ${X} ${X_T}; do zfs list -H -o name -r "$d" >/dev/null 2>&1 && zfs destroy -r "$d"; done; zfs list -H -o name | grep -- '-splitbrain-' | grep it12 | xargs -r -n1 zfs destroy -r; rm -f ${KEY}`,
  );
}

beforeAll(() => {
  execFileSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'pipe' });
  cleanup();
  // The VM's own aliases, and one that reaches nothing: a primary whose host is down.
  fs.writeFileSync(sshConfig, `${fs.readFileSync(vm().sshConfig, 'utf8')}\nHost zfsvm-gone\n  HostName 127.0.0.1\n  Port 1\n  User root\n`);
  ssh('zfsvm', `zfs create ${P} && printf 'first\\n' > "$(zfs get -H -o value mountpoint ${P})/a.txt" && zfs snapshot ${P}@a`);
  group(`zfsvm:${P}`, `zfsvm:${T}`);
}, 180_000);

afterAll(() => {
  cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
}, 180_000);

describe('roles, failover, takeover, split brain, raw sends (OpenZFS 2.3)', () => {
  it("a group's first sync receives the replica read-only with its role; check warns of it made writable; roles mends it", async () => {
    const sync = await run('sync', 'group', 'it12', '--yes');
    expect(sync.code, sync.stderr + sync.stdout).toBe(0);
    expect(get('readonly', T)).toBe('on\tlocal');
    expect(get('zfs-fleet:role', T)).toBe('replica\tlocal');
    expect(get('zfs-fleet:primary', T)).toBe(`zfsvm:${P}\tlocal`);
    const ok = await run('check', 'zfsvm');
    expect(ok.stdout).not.toMatch(/replica .* is writable/);
    ssh('zfsvm', `zfs set readonly=off ${T}`);
    // (The VM's seeded datasets have findings of their own: only this pair's line is looked at.)
    const warned = await run('check', 'zfsvm');
    expect(warned.code).toBeGreaterThanOrEqual(1);
    expect(warned.stdout).toContain(`[WARNING] zfsvm:${P}->zfsvm:${T}: the replica zfsvm:${T} is writable (readonly=off)`);
    expect((await run('roles', 'it12', '--yes')).code).toBe(0);
    expect(get('readonly', T)).toBe('on\tlocal');
    expect((await run('check', 'zfsvm')).stdout).not.toMatch(/replica .* is writable/);
  }, 300_000);

  it('failover there and back: every file on the new primary, the guids equal, one writable side, the fleet file swapped', async () => {
    write(P, 'b.txt', 'written on tank');
    const r = await run('failover', 'it12', '--to', `zfsvm:${T}`, '--yes');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(newest(T)).toBe(newest(P));
    expect(newest(P)).toMatch(/^@zfs-fleet-failover-\d{8}-\d{6}\t\d+$/);
    const name = newest(P).split('\t')[0]!.slice(1);
    expect(md5Files(T)).toBe(md5Files(P, name));
    expect([get('readonly', P), get('readonly', T)]).toEqual(['on\tlocal', 'off\tlocal']);
    expect([get('zfs-fleet:role', P), get('zfs-fleet:role', T)]).toEqual(['replica\tlocal', 'primary\tlocal']);
    expect(fileGroup()).toEqual({ name: 'it12', primary: `zfsvm:${T}`, replicas: [`zfsvm:${P}`] });

    write(T, 'c.txt', 'written on backup');
    const back = await run('failover', 'it12', '--to', `zfsvm:${P}`, '--yes');
    expect(back.code, back.stderr + back.stdout).toBe(0);
    expect(newest(T)).toBe(newest(P));
    expect(md5Files(P)).toContain('c.txt');
    expect([get('readonly', P), get('readonly', T)]).toEqual(['off\tlocal', 'on\tlocal']);
    expect(fileGroup().primary).toBe(`zfsvm:${P}`);
    const status = await run('status', 'group', 'it12');
    expect(status.stdout).toContain('every replica level');
  }, 300_000);

  it("takeover while the primary's host is down; back, it is split brain; demote keeps its data aside and makes it a replica", async () => {
    // The primary written after the last sync, then its host "down": the fleet file names it by an alias that reaches nothing.
    write(P, 'd.txt', 'written on tank, never sent');
    ssh('zfsvm', `zfs snapshot ${P}@tank-only`);
    group(`zfsvm-gone:${P}`, `zfsvm:${T}`);
    const refused = await run('failover', 'it12', '--to', `zfsvm:${T}`, '--yes');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/zfsvm-gone cannot be reached .*a failover needs the primary; if it is lost, take over/);
    const r = await run('takeover', 'it12', '--to', `zfsvm:${T}`, '--yes');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(get('readonly', T)).toBe('off\tlocal');
    expect(get('zfs-fleet:role', T)).toBe('primary\tlocal');
    expect(fileGroup()).toEqual({ name: 'it12', primary: `zfsvm:${T}`, replicas: [`zfsvm-gone:${P}`] });
    write(T, 'e.txt', 'written on backup after the takeover');
    ssh('zfsvm', `zfs snapshot ${T}@after-takeover`);

    // The host is back (the alias mended): tank still says it is the primary.
    fs.writeFileSync(fleetFile, fs.readFileSync(fleetFile, 'utf8').replace('zfsvm-gone:', 'zfsvm:'));
    const status = await run('status', 'group', 'it12');
    expect(status.stdout).toMatch(new RegExp(`zfsvm:${P}\\s+split brain`));
    const check = await run('check', 'zfsvm');
    expect(check.code).toBe(2);
    expect(check.stdout).toContain(`split brain: the replica zfsvm:${P} says it is the primary`);

    const preview = await run('demote', 'it12', `zfsvm:${P}`, '--keep-data', '--json');
    expect(preview.code, preview.stderr).toBe(0);
    const plan = planOf(preview.stdout);
    const before = snapshotGuids(P).map((l) => l.split('\t')[0]!);
    const r2 = await run('demote', 'it12', `zfsvm:${P}`, '--keep-data', '--yes');
    expect(r2.code, r2.stderr + r2.stdout).toBe(0);
    // Exactly the snapshots the preview listed are gone (the copy's own snapshot among them).
    const after = new Set(snapshotGuids(P).map((l) => l.split('\t')[0]!));
    const listed = plan.destroys.snapshots.map((s) => s.name.slice(s.name.indexOf('@'))).sort();
    expect(before.filter((n) => !after.has(n)).sort()).toEqual(listed.filter((n) => before.includes(n)));
    expect(listed).toContain('@tank-only');
    expect(newest(P)).toBe(newest(T));
    expect(md5Files(P)).toContain('e.txt');
    const copy = ssh('zfsvm', `zfs list -H -o name | grep '^${P}-splitbrain-' || true`).trim();
    expect(copy).toMatch(/-splitbrain-\d{8}-\d{6}$/);
    expect(md5Files(copy)).toContain('d.txt');
    expect([get('readonly', P), get('zfs-fleet:role', P)]).toEqual(['on\tlocal', 'replica\tlocal']);
    expect((await run('status', 'group', 'it12')).stdout).toContain('every replica level');
  }, 300_000);

  it('rename --with-replicas: the replica renamed first, then the source (guids kept); the fleet file follows; the next sync is incremental', async () => {
    ssh('zfsvm', `zfs create -p ${MV}/app && zfs create -p ${MV}/apps && zfs create -p ${MV_T}/apps && zfs snapshot ${MV}/app@a`);
    expect((await run('sync', `zfsvm:${MV}/app`, `zfsvm:${MV_T}/app`, '--yes')).code).toBe(0);
    const guids = [get('guid', `${MV}/app`), get('guid', `${MV_T}/app`)];
    // Moved under another parent: the replica's name ends as its source's below the pool, so it moves the same way.
    const preview = await run('rename', `zfsvm:${MV}/app`, `${MV}/apps/app`, '--with-replicas', '--json');
    expect(preview.code, preview.stderr).toBe(0);
    const plan = planOf(preview.stdout);
    expect(plan.steps.map((x) => (x.type === 'command' ? x.argv.join(' ') : ''))).toEqual([
      `zfs rename ${MV_T}/app ${MV_T}/apps/app`,
      `zfs rename ${MV}/app ${MV}/apps/app`,
    ]);
    const r = await run('rename', `zfsvm:${MV}/app`, `${MV}/apps/app`, '--with-replicas', '--yes');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect([get('guid', `${MV}/apps/app`), get('guid', `${MV_T}/apps/app`)]).toEqual(guids);
    const pairs = (JSON.parse(fs.readFileSync(fleetFile, 'utf8')) as { pairs: { source: string; target: string }[] }).pairs;
    expect(pairs.at(-1)).toEqual({ source: `zfsvm:${MV}/apps/app`, target: `zfsvm:${MV_T}/apps/app` });
    ssh('zfsvm', `zfs snapshot ${MV}/apps/app@b`);
    const next = planOf((await run('sync', `zfsvm:${MV}/apps/app`, `zfsvm:${MV_T}/apps/app`, '--json')).stdout);
    const send = next.steps.find((x) => x.type === 'pipe');
    expect(send && send.type === 'pipe' && send.from.argv.join(' ')).toMatch(/send .*-[iI] .*@a .*@b/);
    expect((await run('sync', `zfsvm:${MV}/apps/app`, `zfsvm:${MV_T}/apps/app`, '--yes')).code).toBe(0);
    expect(snapshotGuids(`${MV_T}/apps/app`)).toEqual(snapshotGuids(`${MV}/apps/app`));
  }, 300_000);

  it('an encrypted source is sent raw: the replica is encrypted with its key not loaded, and receives incrementally', async () => {
    ssh(
      'zfsvm',
      `head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' > ${KEY} && zfs create -o encryption=on -o keyformat=hex -o keylocation=file://${KEY} ${ENC} && printf 'secret\\n' > "$(zfs get -H -o value mountpoint ${ENC})/s.txt" && zfs snapshot ${ENC}@a`,
    );
    const preview = await run('sync', `zfsvm:${ENC}`, `zfsvm:${ENC_T}`, '--json');
    expect(preview.code, preview.stderr).toBe(0);
    const plan = planOf(preview.stdout);
    expect(plan.warnings.join('\n')).toMatch(
      /is encrypted \(aes-256-gcm\): sent raw \(-w\), so zfsvm:backup\/it12-enc holds the encrypted data and needs no key/,
    );
    expect(JSON.stringify(plan.steps)).toContain('"-w"');
    expect((await run('sync', `zfsvm:${ENC}`, `zfsvm:${ENC_T}`, '--yes')).code).toBe(0);
    expect(get('encryption', ENC_T).split('\t')[0]).toBe('aes-256-gcm');
    expect(get('keystatus', ENC_T).split('\t')[0]).toBe('unavailable');
    ssh('zfsvm', `zfs snapshot ${ENC}@b`);
    const again = await run('sync', `zfsvm:${ENC}`, `zfsvm:${ENC_T}`, '--json');
    expect(planOf(again.stdout).warnings.join('\n')).toContain('its key not being loaded (keystatus unavailable) is expected, not a problem');
    const inc = await run('sync', `zfsvm:${ENC}`, `zfsvm:${ENC_T}`, '--yes');
    expect(inc.code, inc.stderr + inc.stdout).toBe(0);
    expect(newest(ENC_T)).toBe(newest(ENC));

    // Decrypted only when the pair says so, and said; such a replica cannot then take a raw stream.
    const decPlan = planOf((await run('sync', `zfsvm:${ENC}`, `zfsvm:${DEC_T}`, '--json')).stdout);
    expect(decPlan.warnings.join('\n')).toMatch(/the pair says decrypt: it is sent decrypted .* stores the data unencrypted/);
    expect(JSON.stringify(decPlan.steps)).not.toContain('"-w"');
    const dec = await run('sync', `zfsvm:${ENC}`, `zfsvm:${DEC_T}`, '--yes');
    expect(dec.code, dec.stderr + dec.stdout).toBe(0);
    expect(get('encryption', DEC_T).split('\t')[0]).toBe('off');
    const file = JSON.parse(fs.readFileSync(fleetFile, 'utf8')) as { pairs: { options?: object }[] };
    delete file.pairs[1]!.options;
    fs.writeFileSync(fleetFile, JSON.stringify(file));
    ssh('zfsvm', `zfs snapshot ${ENC}@c`);
    const raw = await run('sync', `zfsvm:${ENC}`, `zfsvm:${DEC_T}`, '--yes');
    expect(raw.code).toBe(1);
    expect(raw.stderr).toContain(
      `zfsvm:${DEC_T} is not: it was received decrypted, and a raw incremental stream cannot be received onto it. Set "decrypt": true`,
    );
    expect(snapshotGuids(DEC_T).map((l) => l.split('\t')[0])).toEqual(['@a', '@b']);

    // Expire on the source: @a goes, @b stays (both pairs' newest common snapshot), @c (the newest 1);
    // of the sync bookmarks only the newest each replica has (#zfs-fleet-b) stays.
    const bookmarks = () => ssh('zfsvm', `zfs list -H -o name -t bookmark ${ENC}`).trim().split('\n').filter(Boolean).sort();
    expect(bookmarks()).toEqual([`${ENC}#zfs-fleet-a`, `${ENC}#zfs-fleet-b`]);
    const exp = await run('expire', `zfsvm:${ENC}`, '--keep', '1', '--json');
    expect(exp.code, exp.stderr).toBe(0);
    const expPlan = planOf(exp.stdout);
    expect(expPlan.destroys.snapshots.map((x) => x.name)).toEqual([`${ENC}@a`]);
    expect(expPlan.destroys.bookmarks.map((x) => x.name)).toEqual([`${ENC}#zfs-fleet-a`]);
    expect(expPlan.effects).toContain(`Kept: #zfs-fleet-b: the newest sync bookmark zfsvm:${ENC_T} has; the newest sync bookmark zfsvm:${DEC_T} has`);
    expect((await run('expire', `zfsvm:${ENC}`, '--keep', '1', '--yes')).code).toBe(0);
    expect(snapshotGuids(ENC).map((l) => l.split('\t')[0])).toEqual(['@b', '@c']);
    expect(bookmarks()).toEqual([`${ENC}#zfs-fleet-b`]);
  }, 300_000);

  it("a recursive group's excluded children are neither sent nor counted; the plan lists them; the next sync is incremental, still without them", async () => {
    const tree = ['', '/keep', '/keep/deep', '/tmp', '/tmp/sub', '/cache1'];
    ssh(
      'zfsvm',
      `zfs create ${X} && for d in ${tree.slice(1).join(' ')}; do zfs create ${X}$d; done && for d in ${tree.map((d) => `'${d}'`).join(' ')}; do printf '%s\\n' "$d" > "$(zfs get -H -o value mountpoint ${X}$d)/f.txt"; done && zfs snapshot -r ${X}@a`,
    );
    const doc = JSON.parse(fs.readFileSync(fleetFile, 'utf8')) as { groups: unknown[] };
    doc.groups.push({ name: 'it12x', primary: `zfsvm:${X}`, replicas: [`zfsvm:${X_T}`], options: { recursive: true, exclude: ['tmp', 'cache*'] } });
    fs.writeFileSync(fleetFile, JSON.stringify(doc, null, 2) + '\n');
    const sendOf = (plan: Plan) => plan.steps.flatMap((x) => (x.type === 'pipe' ? [x.from.argv.join(' ')] : []));

    const preview = await run('sync', `zfsvm:${X}`, `zfsvm:${X_T}`, '--json');
    expect(preview.code, preview.stderr).toBe(0);
    const plan = planOf(preview.stdout);
    expect(plan.summary).toContain(`Left out by the pair's exclude patterns (not sent, not counted): ${X}/cache1, ${X}/tmp (and 1 descendant).`);
    expect(sendOf(plan)).toEqual([expect.stringMatching(new RegExp(`^zfs send -R -X ${X}/cache1,${X}/tmp .*${X}@a$`))]);
    const r = await run('sync', 'group', 'it12x', '--yes');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const received = () => ssh('zfsvm', `zfs list -H -o name -r ${X_T}`).trim().split('\n');
    expect(received()).toEqual([X_T, `${X_T}/keep`, `${X_T}/keep/deep`]);
    expect(md5Files(`${X_T}/keep/deep`)).toBe(md5Files(`${X}/keep/deep`, 'a'));
    const status = await run('status', `zfsvm:${X}`, `zfsvm:${X_T}`, '--json');
    const st = JSON.parse(status.stdout) as { status: string; descendants: unknown };
    expect(st.status).toBe('in-sync');
    expect(st.descendants).toEqual({ sent: 2, excluded: [`${X}/cache1`, `${X}/tmp`], excludedCount: 3, missing: [] });

    write(`${X}/keep/deep`, 'g.txt', 'after the first sync');
    ssh('zfsvm', `zfs snapshot -r ${X}@b`);
    const next = planOf((await run('sync', `zfsvm:${X}`, `zfsvm:${X_T}`, '--json')).stdout);
    expect(sendOf(next)).toEqual([expect.stringMatching(new RegExp(`^zfs send -R -X ${X}/cache1,${X}/tmp .*-I ${X}@a ${X}@b$`))]);
    const r2 = await run('sync', 'group', 'it12x', '--yes');
    expect(r2.code, r2.stderr + r2.stdout).toBe(0);
    expect(received()).toEqual([X_T, `${X_T}/keep`, `${X_T}/keep/deep`]);
    expect(snapshotGuids(`${X_T}/keep/deep`)).toEqual(snapshotGuids(`${X}/keep/deep`));
    expect(md5Files(`${X_T}/keep/deep`)).toContain('g.txt');

    // cache1 no longer excluded: the replica never had it, an incremental -R stream would stop half received. Refused, nothing run.
    fs.writeFileSync(fleetFile, fs.readFileSync(fleetFile, 'utf8').replace('"cache*"', '"nothing-else"'));
    ssh('zfsvm', `zfs snapshot -r ${X}@c`);
    const said = JSON.parse((await run('status', `zfsvm:${X}`, `zfsvm:${X_T}`, '--json')).stdout) as { summary: string };
    expect(said.summary).toContain(`The target lacks ${X}/cache1, which the source had at the common base`);
    const refused = await run('sync', 'group', 'it12x', '--yes');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`${X_T} lacks ${X_T}/cache1, which zfsvm had at the common base @b`);
    expect(snapshotGuids(X_T).map((l) => l.split('\t')[0])).toEqual(['@a', '@b']);
  }, 300_000);
});
