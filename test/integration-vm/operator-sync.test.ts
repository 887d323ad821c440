/**
 * Seed 001's unprivileged operator syncing for real on the VM (pull route: the target runs
 * `ssh SOURCE zfs send | zfs recv`; here the VM reaches itself as operator@127.0.0.1 with a key made
 * for this file and removed after). The plans are made with the facts the product reads (`id`, `zfs
 * allow`, also through the target's ssh), as the CLI does:
 * - the receive gets `-u` (a non-root user cannot mount on Linux; without it zfs receives, fails to
 *   mount and still exits 0: fixture operator_recv_full_no_u), and the plan says why;
 * - `hold` without `release` on tank: the source's base is not held (a warning says why) rather than
 *   held for good; the target's is held and released. The same plan made without the facts (as
 *   before) leaves its hold on the source: the release is refused.
 * Datasets tank/it5-op and backup/it5-op, destroyed in afterAll with the key (also after a failure).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan, type ExecDeps } from '../../src/core/execute/executor.js';
import { parsePair } from '../../src/core/fleet/pairs.js';
import { holdTagFor } from '../../src/core/replication/argv.js';
import { gatherSyncFacts, planSync, type SyncFacts, type SyncOptions } from '../../src/core/replication/sync.js';
import { holds, md5Files, snapshotGuids, ssh, sshTry, testLogger, vmFleet } from './vm.js';

const HOST = 'zfsvm-operator';
const SRC = 'tank/it5-op';
const DST = 'backup/it5-op';
const KEY = '/home/operator/.ssh/it5_pull';
const KNOWN = '/home/operator/.ssh/it5_known_hosts';
const COMMENT = 'zfs-fleet-it5-pull';
const CONTROL = '/home/operator/.ssh/it5-cm';
/**
 * How the VM (the target) reaches the source, itself, as operator. One shared connection
 * (ControlMaster): an ssh handshake inside the emulated guest takes 2-12 s.
 */
const SSH_FROM_TARGET = [
  'ssh',
  '-o',
  'BatchMode=yes',
  '-o',
  'IdentitiesOnly=yes',
  '-i',
  KEY,
  '-o',
  `UserKnownHostsFile=${KNOWN}`,
  '-o',
  'StrictHostKeyChecking=yes',
  '-o',
  'ControlMaster=auto',
  '-o',
  `ControlPath=${CONTROL}`,
  '-o',
  'ControlPersist=60',
  'operator@127.0.0.1',
];

const fleet = vmFleet([HOST]);
const deps: ExecDeps = { runner: (h) => fleet.host(h).runner, freshListing: (h) => fleet.host(h).refresh(), logger: testLogger };
const pair = parsePair({ source: `${HOST}:${SRC}`, target: `${HOST}:${DST}`, route: 'pull' });
const tag = holdTagFor(pair.id);
const host = { name: HOST, runner: fleet.host(HOST).runner, capabilities: () => fleet.host(HOST).capabilities() };

async function plan(options: SyncOptions & { withFacts: boolean }) {
  const { withFacts, ...rest } = options;
  const [l, facts] = await Promise.all([
    fleet.host(HOST).refresh(),
    withFacts ? gatherSyncFacts(pair, { source: host, target: host }) : Promise.resolve<SyncFacts | undefined>(undefined),
  ]);
  return planSync(pair, l, l, { route: { sshFromTarget: SSH_FROM_TARGET }, ...(facts ? { facts } : {}), ...rest });
}
function writeAndSnap(mib: number, snap: string) {
  ssh('zfsvm', `head -c ${mib}M /dev/urandom >/${SRC}/${snap}.bin && sync && zfs snapshot ${SRC}@${snap}`);
}
/** md5 of the replica's files (mounted by root for the reading, unmounted again: the operator's receives need it unmounted). */
function replicaFiles(): string {
  try {
    return md5Files(DST);
  } finally {
    ssh('zfsvm', `zfs unmount ${DST}`);
  }
}
const cleanup = () => {
  sshTry(HOST, `[ -S ${CONTROL} ] && ssh -o ControlPath=${CONTROL} -O exit operator@127.0.0.1; true`);
  return sshTry(
    'zfsvm',
    `for d in ${DST} ${SRC}; do
       zfs list -H -o name -t snapshot -r "$d" 2>/dev/null | while read -r s; do zfs holds -H "$s" | cut -f2 | while read -r t; do zfs release "$t" "$s"; done; done
       zfs recv -A "$d" 2>/dev/null; zfs destroy -r "$d" 2>/dev/null
     done
     rm -f ${KEY} ${KEY}.pub ${KNOWN}; sed -i '/ ${COMMENT}$/d' /home/operator/.ssh/authorized_keys
     zfs list -H -o name ${SRC} ${DST} 2>/dev/null; grep -c ' ${COMMENT}$' /home/operator/.ssh/authorized_keys || true`,
  );
};

beforeAll(() => {
  cleanup();
  ssh(
    'zfsvm',
    `set -e
     ssh-keygen -q -t ed25519 -N '' -C ${COMMENT} -f ${KEY}
     cat ${KEY}.pub >>/home/operator/.ssh/authorized_keys
     printf '127.0.0.1 %s\\n' "$(cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)" >${KNOWN}
     chown operator:operator ${KEY} ${KEY}.pub ${KNOWN}
     zfs create ${SRC}`,
  );
  writeAndSnap(1, 's1');
});

afterAll(async () => {
  await fleet.dispose();
  expect(cleanup().stdout.trim()).toBe('0');
});

describe('seed 001 operator, pull route, plans made with the users that run them', () => {
  it('the first receive is recv -s -u, says why, and exits 0 with the data in place (unmounted)', async () => {
    const p = await plan({ withFacts: true });
    const send = p.steps.find((s) => s.op === 'send')!;
    expect(send.type === 'pipe' && send.to.argv).toEqual(['zfs', 'recv', '-s', '-u', DST]);
    expect(send.description).toMatch(/received with -u \(left unmounted\): operator is not root, and on Linux only root can mount/);
    // no bookmark: the operator may not bookmark on tank
    expect(p.steps.map((s) => s.op)).not.toContain('bookmark');
    // Made without the facts (as before), the same plan receives without -u.
    const before = (await plan({ withFacts: false })).steps.find((s) => s.op === 'send')!;
    expect(before.type === 'pipe' && before.to.argv).toEqual(['zfs', 'recv', '-s', DST]);

    const r = await executePlan(p, deps);
    expect(r.error).toBeUndefined();
    expect(r.outcome).toBe('ok');
    expect(ssh('zfsvm', `zfs get -H -o value mounted ${DST}`).trim()).toBe('no');
    expect(snapshotGuids(DST)).toEqual(snapshotGuids(SRC));
    expect(replicaFiles()).toBe(md5Files(SRC, 's1'));
  });

  it('hold without release on tank: the source base is not held (and a warning says why), the target base is, and no hold is left', async () => {
    writeAndSnap(4, 's2');
    const p = await plan({ withFacts: true });
    expect(p.steps.filter((s) => s.op === 'hold' || s.op === 'release').map((s) => (s.type === 'command' ? s.argv : []))).toEqual([
      ['zfs', 'hold', tag, `${DST}@s1`],
      ['zfs', 'release', tag, `${DST}@s1`],
    ]);
    expect(p.warnings).toContain(
      `The base is not held on the source during the send: operator may hold snapshots of ${HOST}:${SRC} but not release them, and a hold it placed would stay until root releases it. To have it held: zfs allow -u operator release ${SRC}`,
    );
    let atSend: string[] | undefined;
    const r = await executePlan(p, deps, { onEvent: (e) => void (e.type === 'step-start' && e.step.op === 'send' && (atSend = holds([SRC, DST]))) });
    expect(r.error).toBeUndefined();
    expect(r.outcome).toBe('ok');
    expect(atSend).toEqual([`${DST}@s1\t${tag}`]);
    expect(holds([SRC, DST])).toEqual([]);
    expect(snapshotGuids(DST)).toEqual(snapshotGuids(SRC));
    expect(replicaFiles()).toBe(md5Files(SRC, 's2'));
  });

  it('the same sync planned without the facts (as before) leaves its hold on tank: the release is refused; the failed bookmark is only a warning', async () => {
    writeAndSnap(1, 's3');
    const p = await plan({ withFacts: false });
    expect(p.steps.filter((s) => s.op === 'hold').length).toBe(2);
    const r = await executePlan(p, deps);
    expect(r.outcome).toBe('failed');
    expect(r.error).toMatch(/cannot release: permission denied/);
    expect(r.warnings?.join('\n')).toMatch(/^Bookmark the sent snapshot on the source .*: failed \(.*permission denied/);
    // The data arrived; what stays is the hold only root can release.
    expect(snapshotGuids(DST)).toEqual(snapshotGuids(SRC));
    expect(holds([SRC, DST])).toEqual([`${SRC}@s2\t${tag}`]);
    ssh('zfsvm', `zfs release ${tag} ${SRC}@s2`);
    expect(holds([SRC, DST])).toEqual([]);
  });

  it("the stream's progress reaches the run: zfs send -v -P on the source, read through the target's ssh; bytes rise, the estimate is the total", async () => {
    writeAndSnap(24, 's4');
    const p = await plan({ withFacts: true });
    const send = p.steps.find((s) => s.op === 'send')!;
    expect(send.type === 'pipe' && send.exec?.argv[2]).toContain(`'zfs send -v -P -L -c -I ${SRC}@s3 ${SRC}@s4'`);
    const seen: { bytes: number; total?: number; left?: number }[] = [];
    const r = await executePlan(p, deps, {
      progressIntervalMs: 0,
      onEvent: (e) => void (e.type === 'progress' && seen.push({ bytes: e.bytes, total: e.totalBytes, left: e.secondsLeft })),
    });
    expect(r.error).toBeUndefined();
    expect(r.outcome).toBe('ok');
    expect(snapshotGuids(DST)).toEqual(snapshotGuids(SRC));
    // 24 MiB through ssh inside the emulated VM takes seconds: zfs send prints a line each second.
    expect(seen.length).toBeGreaterThan(0);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.bytes).toBeGreaterThan(seen[i - 1]!.bytes);
    const estimate = seen[0]!.total!;
    expect(estimate).toBeGreaterThan(24 << 20);
    expect(seen.at(-1)!.bytes).toBeLessThanOrEqual(estimate);
    expect(seen.every((x) => x.left !== undefined)).toBe(true);
    // The last line comes up to a second before the end; the send ended well, so the run records
    // its stream as announced by the send itself (the estimate, here exactly).
    expect(r.bytes).toBe(estimate);
    expect(r.steps.find((s) => s.id === send.id)!.bytes).toBe(estimate);
  });
});
