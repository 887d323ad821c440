/** Sync plans from recorded listings: exact argv, explicit rollbacks, refusals, flags by capability. */
import { describe, expect, it } from 'vitest';
import type { HostListing } from '../../../src/core/fleet/listing.js';
import type { ReplicationPair } from '../../../src/core/fleet/pairs.js';
import { holdTagFor, sshArgvFor } from '../../../src/core/replication/argv.js';
import { hostDelegations, parseIdOutput } from '../../../src/core/fleet/permissions.js';
import { destroyLines, renderPlan, type Plan, type PlanStep } from '../../../src/core/replication/plan.js';
import { pairState } from '../../../src/core/replication/state.js';
import { planSync, syncFactsFrom, type SyncOptions } from '../../../src/core/replication/sync.js';
import { parseZfsAllow } from '../../../src/core/zfs/allow.js';
import {
  R1,
  R2,
  fuseListing,
  fuseListingWithout,
  openzfsCmd,
  openzfsListing,
  openzfsListingWithout,
  openzfsOutput,
  pair,
  planError,
  scenarioPair,
} from './fixtures.js';

function argvOf(s: PlanStep): string[] | { from: string[]; to: string[] } {
  return s.type === 'command' ? s.argv : { from: s.from.argv, to: s.to.argv };
}

function sync(
  scenario: string,
  name = 'fs',
  options: SyncOptions = {},
  pairOptions: Parameters<typeof scenarioPair>[2] = {},
  route: ReplicationPair['route'] = 'relay',
): Plan {
  return planSync(scenarioPair(scenario, name, pairOptions, route), fuseListing(scenario, 'off1'), fuseListing(scenario, 'ovh3'), options);
}

describe('planSync on zfs-fuse', () => {
  it('behind by 2: hold the base on both sides, -I from the base, release; no -F, no -c/-L (zfs-fuse has neither)', () => {
    const p = sync('behind');
    const tag = holdTagFor(scenarioPair('behind').id);
    const src = `${R1}/behind/fs`;
    const dst = `${R2}/behind/fs`;
    expect(p.steps.map(argvOf)).toEqual([
      ['zfs', 'hold', tag, `${src}@20230515-0000`],
      ['zfs', 'hold', tag, `${dst}@20230515-0000`],
      { from: ['zfs', 'send', '-I', `${src}@20230515-0000`, `${src}@20230608-1130`], to: ['zfs', 'recv', dst] },
      ['zfs', 'release', tag, `${dst}@20230515-0000`],
      ['zfs', 'release', tag, `${src}@20230515-0000`],
    ]);
    expect(p.steps[3]!.cleanupOf).toBe(p.steps[1]!.id);
    expect(p.steps[4]!.cleanupOf).toBe(p.steps[0]!.id);
    expect(p.destroys).toEqual({ snapshots: [], bookmarks: [], clones: [], datasets: [] });
    expect(p.warnings.join('\n')).toContain("-L (large blocks), -c (compressed stream): not supported by the source's zfs (zfs-fuse 0.7.0)");
    expect(p.warnings.join('\n')).toContain('cannot tell whether');
    expect(p.hosts).toEqual(['off1', 'ovh3']);
    expect(p.summary).toContain('Send 2 snapshots');
  });

  it('"sync up to here" (upTo): -I from the base up to the chosen snapshot, not the newest; older than the base or not a snapshot of the source: refused', () => {
    const src = `${R1}/behind/fs`;
    const p = sync('behind', 'fs', { upTo: '20230530-2330' });
    const send = p.steps.find((s) => s.type === 'pipe')!;
    expect(argvOf(send)).toEqual({ from: ['zfs', 'send', '-I', `${src}@20230515-0000`, `${src}@20230530-2330`], to: ['zfs', 'recv', `${R2}/behind/fs`] });
    expect(p.summary).toContain('Send 1 snapshot ');
    expect(p.summary).toContain('up to @20230530-2330');
    expect(sync('behind', 'fs', { upTo: `${src}@20230608-1130` }).summary).toContain('Send 2 snapshots');
    expect(sync('behind', 'fs', { upTo: '20230515-0000' }).steps).toEqual([]);
    expect(planError(() => sync('behind', 'fs', { upTo: '20230501-0000' })).message).toContain('older than the common base');
    expect(planError(() => sync('behind', 'fs', { upTo: 'nope' })).message).toContain('is not a snapshot of the source');
    expect(planError(() => sync('behind', 'fs', { upTo: '20230530-2330', newSnapshotName: 'x' })).message).toContain('not both');
  });

  it('-i when the pair does not want intermediates, with a warning about the skipped snapshot', () => {
    const p = sync('behind', 'fs', {}, { intermediates: false });
    const send = p.steps.find((s) => s.op === 'send')!;
    expect(send.type === 'pipe' && send.from.argv).toEqual(['zfs', 'send', '-i', `${R1}/behind/fs@20230515-0000`, `${R1}/behind/fs@20230608-1130`]);
    expect(p.warnings.join('\n')).toContain('the 1 snapshot(s) in between are not replicated');
  });

  it('recursive pairs: snapshot -r, send -R -I, hold -r', () => {
    const p = sync('behind', 'fs', { newSnapshotName: 'now' }, { recursive: true });
    expect(p.steps.map((s) => s.op)).toEqual(['snapshot', 'hold', 'hold', 'send', 'release', 'release']);
    expect(argvOf(p.steps[0]!)).toEqual(['zfs', 'snapshot', '-r', `${R1}/behind/fs@now`]);
    expect((argvOf(p.steps[1]!) as string[]).slice(0, 3)).toEqual(['zfs', 'hold', '-r']);
    const send = p.steps[3]!;
    expect(send.type === 'pipe' && send.from.argv).toEqual(['zfs', 'send', '-R', '-I', `${R1}/behind/fs@20230515-0000`, `${R1}/behind/fs@now`]);
    expect(p.preconditions).toContainEqual({ kind: 'snapshot-absent', host: 'off1', name: `${R1}/behind/fs@now` });
  });

  it('properties (-p) for a single dataset', () => {
    const send = sync('behind', 'fs', {}, { properties: true }).steps.find((s) => s.op === 'send')!;
    expect(send.type === 'pipe' && send.from.argv.slice(0, 3)).toEqual(['zfs', 'send', '-p']);
  });

  it('in sync: nothing to do, no steps', () => {
    const p = sync('insync');
    expect(p.steps).toEqual([]);
    expect(p.summary).toMatch(/^Nothing to send/);
  });

  it('the target has a newer snapshot and nothing is new on the source: nothing is destroyed', () => {
    const p = sync('newer');
    expect(p.steps).toEqual([]);
    expect(p.warnings.join('\n')).toContain('@taken-on-target');
  });

  it('the target has a newer snapshot and a new source snapshot is sent: an explicit rollback step lists it; never -F', () => {
    const p = sync('newer', 'fs', { newSnapshotName: '20230601-0000' });
    expect(p.steps.map((s) => s.op)).toEqual(['snapshot', 'hold', 'hold', 'rollback', 'send', 'release', 'release']);
    const rb = p.steps[3]!;
    expect(argvOf(rb)).toEqual(['zfs', 'rollback', '-r', `${R2}/newer/fs@20230515-0000`]);
    expect(rb.destroys.snapshots.map((s) => s.name)).toEqual([`${R2}/newer/fs@taken-on-target`]);
    expect(rb.confirm).toBe(true);
    expect(p.destroys.snapshots.map((s) => `${s.host}:${s.name}`)).toEqual([`ovh3:${R2}/newer/fs@taken-on-target`]);
    expect(p.warnings.join('\n')).toContain('zfs recv -F is never used');
    for (const s of p.steps) expect(s.type === 'pipe' ? [...s.from.argv, ...s.to.argv] : s.argv).not.toContain('-F');
    expect(p.preconditions).toContainEqual({ kind: 'no-clones', host: 'ovh3', snapshot: `${R2}/newer/fs@taken-on-target` });
  });

  it('modified target on zfs-fuse: unknown, so no rollback unless told (a receive said "modified")', () => {
    expect(sync('modified').steps).toEqual([]);
    const p = sync('modified', 'fs', { newSnapshotName: 'next', targetModified: true });
    const rb = p.steps.find((s) => s.op === 'rollback')!;
    expect(argvOf(rb)).toEqual(['zfs', 'rollback', `${R2}/modified/fs@20230515-0000`]);
    expect(rb.destroys.snapshots).toEqual([]);
    expect(p.warnings.join('\n')).toContain('(as told)');
  });

  it('seed 000: blocked by the clone of a snapshot newer than the base; offers the rebase', () => {
    const p = sync('seed000', 'products');
    expect(p.steps).toEqual([]);
    expect(p.blockedBy?.clones.map((c) => c.name)).toEqual([`${R2}/seed000/clones/products`]);
    expect(p.alternatives).toEqual(['rebase']);
    expect(p.title).toContain('(blocked)');
  });

  it('no common base with target snapshots: refused, saying why (pruned on the source)', () => {
    const e = planError(() => sync('pruned'));
    expect(e.code).toBe('no-common-base');
    expect(e.reason).toContain('pruned-on-source');
    expect(e.reason).toContain('does not plan that');
  });

  it('no common base, unrelated target: refused', () => {
    expect(planError(() => sync('unrelated')).reason).toContain('different guids');
  });

  it('never sent: full send of the oldest snapshot, then -I up to the newest', () => {
    const p = sync('neversent');
    const src = `${R1}/neversent/fs`;
    expect(p.steps.map(argvOf)).toEqual([
      { from: ['zfs', 'send', `${src}@20230501-0000`], to: ['zfs', 'recv', `${R2}/neversent/fs`] },
      { from: ['zfs', 'send', '-I', `${src}@20230501-0000`, `${src}@20230515-0000`], to: ['zfs', 'recv', `${R2}/neversent/fs`] },
    ]);
    expect(p.preconditions).toContainEqual({ kind: 'dataset-absent', host: 'ovh3', dataset: `${R2}/neversent/fs` });
  });

  it('never sent, with the parent missing on the target: create -p first', () => {
    const p = planSync(
      pair(`off1:${R1}/neversent/fs`, `ovh3:${R2}/neversent/new/deeper/fs`),
      fuseListing('neversent', 'off1'),
      fuseListing('neversent', 'ovh3'),
    );
    expect(argvOf(p.steps[0]!)).toEqual(['zfs', 'create', '-p', `${R2}/neversent/new/deeper`]);
  });

  it('a target that exists without snapshots is destroyed in its own listed step before the full receive', () => {
    const p = sync('neversent', 'empty');
    expect(argvOf(p.steps[0]!)).toEqual(['zfs', 'destroy', `${R2}/neversent/empty`]);
    expect(p.destroys.datasets.map((d) => d.name)).toEqual([`${R2}/neversent/empty`]);
    expect(p.steps[0]!.confirm).toBe(true);
  });

  it('incremental "full" into an existing target is refused', () => {
    expect(planError(() => sync('behind', 'fs', { incremental: 'full' })).code).toBe('target-exists');
  });

  it('a new snapshot name that exists, or is invalid, is refused', () => {
    expect(planError(() => sync('behind', 'fs', { newSnapshotName: '20230608-1130' })).code).toBe('target-exists');
    expect(planError(() => sync('behind', 'fs', { newSnapshotName: "it's" })).code).toBe('invalid');
  });

  it('names with spaces stay whole in argv', () => {
    const p = sync('spaces', 'my data');
    const send = p.steps.find((s) => s.op === 'send')!;
    expect(send.type === 'pipe' && send.from.argv).toEqual(['zfs', 'send', '-I', `${R1}/spaces/my data@snap one`, `${R1}/spaces/my data@snap two`]);
    expect(send.type === 'pipe' && send.to.argv).toEqual(['zfs', 'recv', `${R2}/spaces/my data`]);
  });

  it('bwlimit: the relay paces the stream in-process (the step carries it); push and pull pipe through mbuffer -r, else pv -L, on their host', () => {
    const relay = sync('spaces', 'my data', {}, { bwlimit: 10 * 1024 * 1024 }).steps.find((s) => s.op === 'send')!;
    expect(relay.type === 'pipe' && [relay.bwlimit, relay.exec]).toEqual([10 * 1024 * 1024, undefined]);
    expect(relay.description).toMatch(/ \(at most 10 MiB\/s\)$/);
    const push = sync('spaces', 'my data', {}, { bwlimit: 1000 }, 'push').steps.find((s) => s.op === 'send')!;
    expect(push.type === 'pipe' && push.bwlimit).toBeUndefined();
    const line = push.type === 'pipe' ? push.exec!.argv[2]! : '';
    // send | throttle | ssh target recv: the stage runs on the source, before the stream leaves it.
    expect(line.indexOf('zfs send')).toBeLessThan(line.indexOf('mbuffer -q -s 128k -m 16M -r 1000'));
    expect(line.indexOf('pv -q -L 1000')).toBeLessThan(line.indexOf('| ssh '));
    expect(line).toContain('bwlimit 1000 B/s not applied: neither mbuffer nor pv on');
    const pull = sync('spaces', 'my data', {}, { bwlimit: 1000 }, 'pull').steps.find((s) => s.op === 'send')!;
    const pl = pull.type === 'pipe' ? pull.exec!.argv[2]! : '';
    expect(pl.indexOf('zfs send')).toBeLessThan(pl.indexOf('mbuffer'));
    expect(pl.indexOf('mbuffer')).toBeLessThan(pl.lastIndexOf('zfs recv'));
  });

  it('push: one sh -c on the source; pull: one sh -c on the target', () => {
    const push = sync('spaces', 'my data', {}, {}, 'push').steps.find((s) => s.op === 'send')!;
    expect(push.type === 'pipe' && push.exec?.host).toBe('off1');
    expect(push.type === 'pipe' && push.exec?.argv[2]).toBe(
      `zfs send -I 'zfs-hdd/rtest-fx/spaces/my data@snap one' 'zfs-hdd/rtest-fx/spaces/my data@snap two' | ssh -o BatchMode=yes -- ovh3 'zfs recv '\\''rpool/rtest-fx/spaces/my data'\\'''`,
    );
    const pull = sync('spaces', 'my data', { route: { sshFromTarget: ['ssh', 'off1.example.org'] } }, {}, 'pull').steps.find((s) => s.op === 'send')!;
    expect(pull.type === 'pipe' && pull.exec).toEqual({
      host: 'ovh3',
      argv: [
        'sh',
        '-c',
        `ssh off1.example.org 'zfs send -I '\\''zfs-hdd/rtest-fx/spaces/my data@snap one'\\'' '\\''zfs-hdd/rtest-fx/spaces/my data@snap two'\\''' | zfs recv 'rpool/rtest-fx/spaces/my data'`,
      ],
    });
  });

  it('never destroys the base, in any plan of any scenario', () => {
    for (const [s, n] of [
      ['behind', 'fs'],
      ['newer', 'fs'],
      ['spaces', 'my data'],
      ['insync', 'fs'],
    ] as const) {
      for (const opts of [{}, { newSnapshotName: 'zz' }]) {
        const p = sync(s, n, opts);
        const names = p.destroys.snapshots.map((x) => x.name);
        const base = (l: HostListing, ds: string) => l.datasets.get(ds)!.snapshots.map((x) => x.name);
        expect(names.filter((x) => base(fuseListing(s, 'off1'), `${R1}/${s}/${n}`).includes(x))).toEqual([]);
      }
    }
  });
});

describe('planSync on OpenZFS 2.3', () => {
  const tank = openzfsListing('root_zfs_list_tank', 'zfsvm');

  it('-L -c where both sides have them; recv -s; a -nvP estimate step before the send', () => {
    // backup/off/stalled holds @20230501-0000 and @20230515-0000 of tank/off/products
    const backup = openzfsListing('operator_zfs_list_backup', 'zfsvm');
    const p = planSync(pair('zfsvm:tank/off/products', 'zfsvm:backup/off/stalled'), tank, backup);
    const est = p.steps.find((s) => s.op === 'estimate')!;
    expect(est.estimate).toBe(true);
    expect(argvOf(est)).toEqual(['zfs', 'send', '-n', '-v', '-P', '-L', '-c', '-I', 'tank/off/products@20230515-0000', 'tank/off/products@20230530-2330']);
    const send = p.steps.find((s) => s.op === 'send')!;
    expect(argvOf(send)).toEqual({
      from: ['zfs', 'send', '-L', '-c', '-I', 'tank/off/products@20230515-0000', 'tank/off/products@20230530-2330'],
      to: ['zfs', 'recv', '-s', 'backup/off/stalled'],
    });
    expect(p.warnings.filter((w) => w.startsWith('send '))).toEqual([]);
  });

  it('raw (-w) where the hosts support encryption', () => {
    const backup = openzfsListing('operator_zfs_list_backup', 'zfsvm');
    const send = planSync(pair('zfsvm:tank/off/products', 'zfsvm:backup/off/stalled', { raw: true }), tank, backup).steps.find((s) => s.op === 'send')!;
    expect(send.type === 'pipe' && send.from.argv.slice(0, 5)).toEqual(['zfs', 'send', '-L', '-c', '-w']);
  });

  it('written > 0 without newer snapshots: an explicit rollback to the base (no -r), the bytes discarded are said', () => {
    const backup = openzfsListing('operator_zfs_list_backup', 'zfsvm');
    const p = planSync(pair('zfsvm:tank/off/users', 'zfsvm:backup/off/users'), tank, backup);
    const rb = p.steps.find((s) => s.op === 'rollback')!;
    expect(argvOf(rb)).toEqual(['zfs', 'rollback', 'backup/off/users@20230501-0000']);
    expect(rb.destroys.snapshots).toEqual([]);
    expect(p.warnings.join('\n')).toContain('73728 bytes written to backup/off/users since its newest snapshot are discarded');
  });

  it('the base snapshot pruned on the source, its bookmark kept: -i from the bookmark, then -I', () => {
    const pruned = openzfsListingWithout('root_zfs_list_tank', 'zfsvm', (n) => n === 'tank/off/products@20230501-0000');
    const backup = openzfsListing('operator_zfs_list_backup', 'zfsvm');
    const p = planSync(pair('zfsvm:tank/off/products', 'zfsvm:backup/pull/products'), pruned, backup);
    const sends = p.steps.filter((s) => s.op === 'send').map(argvOf);
    expect(sends).toEqual([
      {
        from: ['zfs', 'send', '-L', '-c', '-i', 'tank/off/products#20230501-0000', 'tank/off/products@20230515-0000'],
        to: ['zfs', 'recv', '-s', 'backup/pull/products'],
      },
      {
        from: ['zfs', 'send', '-L', '-c', '-I', 'tank/off/products@20230515-0000', 'tank/off/products@20230530-2330'],
        to: ['zfs', 'recv', '-s', 'backup/pull/products'],
      },
    ]);
    // a bookmark cannot be held: only the target's base is
    expect(p.steps.filter((s) => s.op === 'hold').map((s) => (s.type === 'command' ? s.host + ' ' + s.argv.at(-1) : ''))).toEqual([
      'zfsvm backup/pull/products@20230501-0000',
    ]);
    const mark = pruned.datasets.get('tank/off/products')!.bookmarks[0]!;
    expect(p.preconditions).toContainEqual({ kind: 'snapshot-exists', host: 'zfsvm', name: 'tank/off/products#20230501-0000', guid: mark.guid });
  });

  it('push and pull on OpenZFS send with -v -P (their progress comes back on standard error); the relay and the estimate do not', () => {
    const pruned = openzfsListingWithout('root_zfs_list_tank', 'zfsvm', (n) => n === 'tank/off/products@20230501-0000');
    const backup = openzfsListing('operator_zfs_list_backup', 'zfsvm');
    const route = { sshFromSource: ['ssh', 'zfsvm'], sshFromTarget: ['ssh', 'zfsvm'] };
    for (const r of ['push', 'pull'] as const) {
      const p = planSync(pair('zfsvm:tank/off/products', 'zfsvm:backup/pull/products', {}, r), pruned, backup, { route });
      const sends = p.steps.filter((s) => s.op === 'send');
      expect(sends.map((s) => s.type === 'pipe' && s.from.argv.slice(0, 4))).toEqual([
        ['zfs', 'send', '-v', '-P'],
        ['zfs', 'send', '-v', '-P'],
      ]);
      for (const s of sends) expect(s.type === 'pipe' && s.exec?.argv[2]).toContain(`zfs send -v -P -L -c -`);
      // the size estimates stay -n -v -P, once each
      expect(p.steps.filter((s) => s.estimate).map((s) => s.type === 'command' && s.argv.slice(0, 6))).toEqual([
        ['zfs', 'send', '-n', '-v', '-P', '-L'],
        ['zfs', 'send', '-n', '-v', '-P', '-L'],
      ]);
    }
    const relay = planSync(pair('zfsvm:tank/off/products', 'zfsvm:backup/pull/products'), pruned, backup);
    for (const s of relay.steps.filter((x) => x.op === 'send')) expect(s.type === 'pipe' && s.from.argv).not.toContain('-v');
  });

  it('a partially received stream: the plan resumes it with send -t', () => {
    const backup = openzfsListing('root_zfs_list_backup', 'zfsvm');
    const token = backup.datasets.get('backup/off/images')!.object.receiveResumeToken!;
    const p = planSync(pair('zfsvm:tank/off/images', 'zfsvm:backup/off/images'), tank, backup);
    expect(p.steps.filter((s) => !s.estimate).map(argvOf)).toEqual([{ from: ['zfs', 'send', '-t', token], to: ['zfs', 'recv', '-s', 'backup/off/images'] }]);
    expect(p.warnings.join('\n')).toContain('Plan the sync again afterwards');
  });
});

describe('planSync with an earlier state of the target', () => {
  it('is planned against ovh3 before @taken-on-target existed', () => {
    const before = fuseListingWithout('newer', 'ovh3', (n) => n.endsWith('@taken-on-target'));
    const p = planSync(scenarioPair('newer'), fuseListing('newer', 'off1'), before, { newSnapshotName: 'x' });
    expect(p.steps.map((s) => s.op)).not.toContain('rollback');
  });
});

describe('planSync: resume tokens read from the listings (OpenZFS 2.3, record-resume-fixtures.sh)', () => {
  const p = pair('zfsvm:tank/it5-rec', 'zfsvm:backup/it5-rec');
  const backup = openzfsListing('root_resume_list_backup', 'zfsvm');
  const token = backup.datasets.get('backup/it5-rec')!.object.receiveResumeToken!;

  it('resumable: resumes with send -t, and re-checks that the source still has @s2 and @s1 (by guid)', () => {
    const tank = openzfsListing('root_resume_list_tank', 'zfsvm');
    const plan = planSync(p, tank, backup);
    expect(plan.steps.filter((s) => !s.estimate).map(argvOf)).toEqual([{ from: ['zfs', 'send', '-t', token], to: ['zfs', 'recv', '-s', 'backup/it5-rec'] }]);
    const snaps = tank.datasets.get('tank/it5-rec')!.snapshots;
    for (const n of ['tank/it5-rec@s2', 'tank/it5-rec@s1']) {
      expect(plan.preconditions).toContainEqual({ kind: 'snapshot-exists', host: 'zfsvm', name: n, guid: snaps.find((s) => s.name === n)!.guid });
    }
    expect(plan.steps.find((s) => s.op === 'send')!.description).toBe(
      'Resume the interrupted receive into backup/it5-rec (@s2, 926168 bytes already received)',
    );
    expect(plan.destroys).toEqual({ snapshots: [], bookmarks: [], clones: [], datasets: [] });
  });

  it('stale (@s2 destroyed on the source): one confirmed zfs recv -A that names the partial stream it destroys; nothing else', () => {
    const tank = openzfsListing('root_resume_list_tank_stale', 'zfsvm');
    const plan = planSync(p, tank, backup);
    expect(plan.steps.map(argvOf)).toEqual([['zfs', 'recv', '-A', 'backup/it5-rec']]);
    const step = plan.steps[0]!;
    expect(step).toMatchObject({ op: 'destroy', confirm: true, host: 'zfsvm' });
    expect(plan.destroys).toEqual({
      snapshots: [],
      bookmarks: [],
      clones: [],
      datasets: [{ host: 'zfsvm', name: 'backup/it5-rec/%recv', what: 'the partially received stream' }],
    });
    expect(destroyLines(plan.destroys)).toEqual(['zfsvm: backup/it5-rec/%recv (dataset: the partially received stream)']);
    expect(plan.title).toBe('Discard the stale partial receive zfsvm:backup/it5-rec');
    expect(plan.summary).toContain('resume token is stale: @s2 no longer exists on the source');
    expect(plan.warnings.join('\n')).toMatch(
      /Its snapshots are kept; only the partial stream \(926168 bytes received\) is destroyed\. Plan the sync again afterwards\./,
    );
    expect(plan.preconditions).toContainEqual({ kind: 'resume-token', host: 'zfsvm', dataset: 'backup/it5-rec', token });
    // the shell line and the plain-text rendering carry the step, marked confirm
    expect(renderPlan(plan)).toMatch(
      /1\. Discard the partially received stream in backup\/it5-rec \(zfs recv -A\): it cannot be resumed, @s2 no longer exists on the source \[confirm\]\n {3}zfsvm\$ zfs recv -A backup\/it5-rec\n {3}destroys zfsvm: backup\/it5-rec\/%recv \(dataset: the partially received stream\)/,
    );
  });

  it('stale first receive (@f1 re-created on the source): zfs recv -A destroys the dataset itself, and says so', () => {
    const backup2 = openzfsListing('root_resume_list_backup2', 'zfsvm');
    const plan = planSync(pair('zfsvm:tank/it5-rec2', 'zfsvm:backup/it5-rec2'), openzfsListing('root_resume_list_tank2_recreated', 'zfsvm'), backup2);
    expect(plan.steps.map(argvOf)).toEqual([['zfs', 'recv', '-A', 'backup/it5-rec2']]);
    expect(plan.destroys.datasets).toEqual([
      {
        host: 'zfsvm',
        name: 'backup/it5-rec2',
        guid: backup2.datasets.get('backup/it5-rec2')!.object.guid,
        what: 'its first receive was cut: it holds only the partially received stream, no snapshot',
      },
    ]);
    expect(plan.summary).toMatch(/resume token is stale: @f1 on the source was re-created since the stream started/);
  });

  it('the pair state says the token is stale, and why', () => {
    const st = pairState(p, openzfsListing('root_resume_list_tank_stale', 'zfsvm'), backup);
    expect(st.status).toBe('resume-token');
    expect(st.resume).toEqual({ bytes: 926168, stale: '@s2 no longer exists on the source' });
    expect(st.summary).toContain('its resume token is stale: @s2 no longer exists on the source');
    const ok = pairState(p, openzfsListing('root_resume_list_tank', 'zfsvm'), backup);
    expect(ok.resume).toEqual({ sending: 'tank/it5-rec@s2', bytes: 926168 });
    expect(ok.summary).toContain('partially received stream of @s2 (926168 bytes received)');
  });
});

describe('planSync with the users that run it (seed 001 operator, recorded id and zfs allow)', () => {
  const allow = (name: string) => ({ dataset: openzfsCmd(name).split(' ').at(-1)!, allow: parseZfsAllow(openzfsOutput(name)) });
  const operator = parseIdOutput(openzfsOutput('operator_id_names'));
  const root = parseIdOutput(openzfsOutput('root_id_names'));
  const gathered = (user = operator) => ({
    source: { user, delegations: hostDelegations([allow('operator_zfs_allow_products')]) },
    target: { user, delegations: hostDelegations([allow('operator_zfs_allow_backup_off')]) },
  });
  const tank = openzfsListing('root_zfs_list_tank', 'zfsvm');
  const backup = openzfsListing('operator_zfs_list_backup', 'zfsvm');
  const pull = pair('zfsvm-operator:tank/off/users', 'zfsvm-operator:backup/pull/users', {}, 'pull');

  it('facts: operator may hold but not release or bookmark on tank; hold and release on backup', () => {
    const f = syncFactsFrom(gathered(), pull);
    expect(f.source).toEqual({ user: 'operator', root: false, permissions: ['hold', 'send'] });
    expect(f.target?.permissions).toEqual(['compression', 'create', 'destroy', 'hold', 'mount', 'mountpoint', 'receive', 'release', 'rollback']);
    expect(f.receiver?.user).toBe('operator');
    expect(syncFactsFrom(gathered(root), pull)).toEqual({
      source: { user: 'root', root: true },
      target: { user: 'root', root: true },
      receiver: { user: 'root', root: true },
    });
  });

  it('operator: recv -u (and why), no hold it could not release on the source (a warning says so), the target held and released, no bookmark', () => {
    // The VM reaches itself over ssh here, as the VM test does (one host with no ssh argv pipes locally: below).
    const route = { sshFromTarget: sshArgvFor('zfsvm-operator') };
    const plan = planSync(pull, tank, backup, { facts: syncFactsFrom(gathered(), pull), route });
    const tag = holdTagFor(pull.id);
    expect(plan.steps.filter((s) => !s.estimate).map((s) => (s.type === 'command' ? s.argv : s.exec!.argv[2]))).toEqual([
      ['zfs', 'hold', tag, 'backup/pull/users@20230515-0000'],
      `ssh -o BatchMode=yes -- zfsvm-operator 'zfs send -v -P -L -c -I tank/off/users@20230515-0000 tank/off/users@20230530-2330' | zfs recv -s -u backup/pull/users`,
      ['zfs', 'release', tag, 'backup/pull/users@20230515-0000'],
    ]);
    expect(plan.steps.find((s) => s.op === 'send')!.description).toMatch(
      /received with -u \(left unmounted\): operator is not root, and on Linux only root can mount/,
    );
    expect(plan.warnings).toContain(
      'The base is not held on the source during the send: operator may hold snapshots of zfsvm-operator:tank/off/users but not release them, and a hold it placed would stay until root releases it. To have it held: zfs allow -u operator release tank/off/users',
    );
  });

  it('root: no -u, holds on both sides, and a bookmark of the sent snapshot that may fail', () => {
    const plan = planSync(pull, tank, backup, { facts: syncFactsFrom(gathered(root), pull) });
    expect(plan.steps.filter((s) => !s.estimate).map((s) => s.op)).toEqual(['hold', 'hold', 'send', 'bookmark', 'release', 'release']);
    expect(plan.steps.find((s) => s.op === 'send')!.type === 'pipe' && (plan.steps.find((s) => s.op === 'send') as { to: { argv: string[] } }).to.argv).toEqual(
      ['zfs', 'recv', '-s', 'backup/pull/users'],
    );
    const mark = plan.steps.find((s) => s.op === 'bookmark')!;
    expect(argvOf(mark)).toEqual(['zfs', 'bookmark', 'tank/off/users@20230530-2330', 'tank/off/users#zfs-fleet-20230530-2330']);
    expect(mark.mayFail).toBeDefined();
    expect(planSync(pull, tank, backup, { facts: syncFactsFrom(gathered(root), pull), bookmark: false }).steps.map((s) => s.op)).not.toContain('bookmark');
  });

  it('without facts the users are assumed root-like (the plans of before); the bookmark is made by default where the source has bookmarks', () => {
    const plan = planSync(pull, tank, backup);
    expect(plan.steps.filter((s) => !s.estimate).map((s) => s.op)).toEqual(['hold', 'hold', 'send', 'bookmark', 'release', 'release']);
    // zfs-fuse has no bookmarks
    expect(sync('behind').steps.map((s) => s.op)).not.toContain('bookmark');
    // a recursive pair: zfs bookmark has no -r
    const rec = planSync(pair('zfsvm:tank/off', 'zfsvm:backup/rec', { recursive: true }), tank, backup, { bookmark: true });
    expect(rec.steps.map((s) => s.op)).not.toContain('bookmark');
    expect(rec.warnings).toContain('No bookmark of the sent snapshot: zfs bookmark has no -r (recursive pair).');
  });

  it('a bookmark that exists already (same guid) is not made again', () => {
    // tank/off/products#20230501-0000 bookmarks @20230501-0000: a sync up to it needs no new one
    const plan = planSync(pair('zfsvm:tank/off/products', 'zfsvm:backup/new/products'), tank, backup, { upTo: '20230501-0000', intermediates: false });
    expect(plan.steps.map((s) => s.op)).toEqual(['create', 'estimate', 'send']);
  });
});
