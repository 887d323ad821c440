/** Plans as data: preconditions re-checked against later listings, shell lines that survive every quoting layer. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkPreconditions,
  destroyLines,
  emptyDestroys,
  makePlan,
  mergeDestroys,
  planToShell,
  renderPlan,
  type PipeStep,
  type PlanStep,
} from '../../../src/core/replication/plan.js';
import { planRollback } from '../../../src/core/replication/rollback.js';
import { planSync } from '../../../src/core/replication/sync.js';
import { shellJoin } from '../../../src/core/zfs/quote.js';
import { R1, R2, fuseListing, fuseListingWithout, openzfsListing, pair, scenarioPair } from './fixtures.js';

describe('checkPreconditions', () => {
  it('a plan made before @taken-on-target existed: "has a new snapshot since the plan was made"', () => {
    const before = fuseListingWithout('newer', 'ovh3', (n) => n.endsWith('@taken-on-target'));
    const plan = planSync(scenarioPair('newer'), fuseListing('newer', 'off1'), before, { newSnapshotName: 'x' });
    const now = new Map([
      ['off1', fuseListing('newer', 'off1')],
      ['ovh3', fuseListing('newer', 'ovh3')],
    ]);
    expect(checkPreconditions(plan, now).map((c) => c.message)).toEqual([`ovh3: ${R2}/newer/fs has a new snapshot @taken-on-target since the plan was made`]);
    // against the listings it was made from: still valid
    expect(
      checkPreconditions(
        plan,
        new Map([
          ['off1', fuseListing('newer', 'off1')],
          ['ovh3', before],
        ]),
      ),
    ).toEqual([]);
  });

  it('a full send planned before the target existed: "exists now"', () => {
    const before = fuseListingWithout('neversent', 'ovh3', (n) => n.startsWith(`${R2}/neversent/empty`));
    const plan = planSync(scenarioPair('neversent', 'empty'), fuseListing('neversent', 'off1'), before);
    const changes = checkPreconditions(
      plan,
      new Map([
        ['off1', fuseListing('neversent', 'off1')],
        ['ovh3', fuseListing('neversent', 'ovh3')],
      ]),
    );
    expect(changes.map((c) => c.message)).toEqual([`ovh3: ${R2}/neversent/empty exists now (the plan creates it)`]);
  });

  it('OpenZFS, two recordings of the same pool: the resumed receive and the new snapshot are noticed', () => {
    const tank = openzfsListing('root_zfs_list_tank', 'zfsvm');
    const earlier = openzfsListing('root_zfs_list_backup', 'zfsvm');
    const later = openzfsListing('operator_zfs_list_backup', 'zfsvm');
    const resume = planSync(pair('zfsvm:tank/off/images', 'zfsvm:backup/off/images'), tank, earlier);
    // one host holds both pools: the listing of each recording is merged for the check
    const merged = (b: typeof later) => new Map([['zfsvm', { ...b, datasets: new Map([...tank.datasets, ...b.datasets]) }]]);
    const resumePlan = { ...resume, hosts: ['zfsvm'] };
    expect(checkPreconditions(resumePlan, merged(earlier))).toEqual([]);
    expect(checkPreconditions(resumePlan, merged(later)).map((c) => c.message)).toEqual([
      'zfsvm: the partial receive into backup/off/images is gone (resumed or aborted) since the plan was made',
    ]);
    // the blocked rollback of backup/off/products is still blocked by the same clone later
    const rb = planRollback('zfsvm', earlier, 'backup/off/products@20230501-0000', { destroyClones: true });
    expect(checkPreconditions(rb, new Map([['zfsvm', later]]))).toEqual([]);
  });

  it('missing listings and re-created objects are changes', () => {
    const plan = planRollback('ovh3', fuseListing('clonechain', 'ovh3'), `${R2}/clonechain/fs@20230501-0000`, { destroyClones: true });
    const c = checkPreconditions(plan, new Map());
    expect(c.length).toBe(plan.preconditions.filter((p) => p.beforeStep === undefined).length);
    expect(c[0]!.message).toBe('ovh3: no fresh listing of ovh3 to re-check the plan against');
    // c2 gone (its lines left out): the clone set of c1@x changed
    const without = fuseListingWithout('clonechain', 'ovh3', (n) => n === `${R2}/clonechain/c2`);
    expect(checkPreconditions(plan, new Map([['ovh3', without]])).map((x) => x.message)).toEqual([
      `ovh3: ${R2}/clonechain/c2 is no longer a clone of ${R2}/clonechain/c1@x`,
    ]);
  });
});

describe('plans as data', () => {
  it('destroy lists, merge without duplicates, unique step ids', () => {
    const a = { snapshots: [{ host: 'h', name: 'p/a@1' }], bookmarks: [{ host: 'h', name: 'p/a#m' }], clones: [{ host: 'h', name: 'p/c' }], datasets: [] };
    expect(mergeDestroys(a, a)).toEqual(a);
    expect(destroyLines(a)).toEqual(['h: p/c (clone)', 'h: p/a@1', 'h: p/a#m (bookmark)']);
    const step = { id: 's1', type: 'command' as const, op: 'snapshot' as const, host: 'h', argv: ['zfs'], description: '', destroys: a, confirm: false };
    expect(() => makePlan({ kind: 'sync', title: '', summary: '', steps: [step, step], preconditions: [], warnings: [] })).toThrow(/duplicate step id/);
    const p = makePlan({ kind: 'sync', title: 't', summary: 's', steps: [step], preconditions: [], warnings: [], id: 'fixed', now: new Date(0) });
    expect(p).toMatchObject({ id: 'fixed', hosts: ['h'], destroys: a, createdAt: '1970-01-01T00:00:00.000Z' });
  });

  it('renderPlan: steps with where they run, destroys, warnings', () => {
    const text = renderPlan(planSync(scenarioPair('newer'), fuseListing('newer', 'off1'), fuseListing('newer', 'ovh3'), { newSnapshotName: 'x' }));
    expect(text).toContain(`ovh3$ zfs rollback -r ${R2}/newer/fs@20230515-0000`);
    expect(text).toContain(`destroys ovh3: ${R2}/newer/fs@taken-on-target`);
    expect(text).toContain('Warnings:');
  });
});

describe('shell lines and quoting layers, run through a real sh with stand-in zfs and ssh', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zf-quote-'));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  // zfs records its arguments (NUL-separated, without argv[0]) per subcommand; ssh records its argv, then runs its last argument as the remote login shell would
  fs.writeFileSync(path.join(bin, 'zfs'), '#!/bin/sh\nf="$FAKE_OUT/zfs-$1"; : > "$f"; for a in "$@"; do printf "%s\\0" "$a" >> "$f"; done\n', { mode: 0o755 });
  fs.writeFileSync(
    path.join(bin, 'ssh'),
    '#!/bin/sh\nf="$FAKE_OUT/ssh-$$"; for a in "$@"; do printf "%s\\0" "$a" >> "$f"; done\nfor last in "$@"; do :; done\nexec sh -c "$last"\n',
    { mode: 0o755 },
  );
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function runSh(line: string): Map<string, string[]> {
    const out = fs.mkdtempSync(path.join(dir, 'out-'));
    execFileSync('sh', ['-c', line], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE_OUT: out } });
    const m = new Map<string, string[]>();
    for (const f of fs.readdirSync(out)) m.set(f.startsWith('ssh-') ? 'ssh' : f, fs.readFileSync(path.join(out, f), 'utf8').split('\0').slice(0, -1));
    return m;
  }

  const spaces = () => planSync(scenarioPair('spaces', 'my data', {}, 'push'), fuseListing('spaces', 'off1'), fuseListing('spaces', 'ovh3'));

  it("push: the runner's layer (shellJoin of sh -c ...) + sh -c + ssh's remote shell give back exactly the planned argv", () => {
    const send = spaces().steps.find((s) => s.op === 'send') as PipeStep;
    // what the ssh runner sends to the host's login shell
    const got = runSh(shellJoin(send.exec!.argv));
    expect(got.get('zfs-send')).toEqual(send.from.argv.slice(1));
    expect(got.get('zfs-recv')).toEqual(send.to.argv.slice(1));
    expect(got.get('ssh')!.slice(0, -1)).toEqual(['-o', 'BatchMode=yes', '--', 'ovh3']);
  });

  it('pull: the same from the target side', () => {
    const p = planSync(scenarioPair('spaces', 'my data', {}, 'pull'), fuseListing('spaces', 'off1'), fuseListing('spaces', 'ovh3'), {
      route: { sshFromTarget: ['ssh', '-p', '2222', 'root@off1'] },
    });
    const send = p.steps.find((s) => s.op === 'send') as PipeStep;
    const got = runSh(shellJoin(send.exec!.argv));
    expect(got.get('zfs-send')).toEqual(send.from.argv.slice(1));
    expect(got.get('zfs-recv')).toEqual(send.to.argv.slice(1));
    expect(got.get('ssh')!.slice(0, -1)).toEqual(['-p', '2222', 'root@off1']);
  });

  it("planToShell: relay lines for the operator's terminal and host lines, each exact", () => {
    const plan = planSync(scenarioPair('spaces', 'my data'), fuseListing('spaces', 'off1'), fuseListing('spaces', 'ovh3'));
    const { lines, byHost } = planToShell(plan, { ssh: (h) => ['ssh', '-F', '/tmp/x config', h] });
    expect(lines.map((l) => l.runOn)).toEqual(['off1', 'ovh3', 'local', 'ovh3', 'off1']);
    expect(byHost.get('local')).toHaveLength(1);
    const send = plan.steps.find((s) => s.op === 'send') as PipeStep;
    const got = runSh(lines[2]!.line);
    expect(got.get('zfs-send')).toEqual(send.from.argv.slice(1));
    expect(got.get('zfs-recv')).toEqual(send.to.argv.slice(1));
    const hold = plan.steps[0]!;
    expect(runSh(lines[0]!.line).get('zfs-hold')).toEqual(hold.type === 'command' ? hold.argv.slice(1) : []);
    expect(lines[0]!.line).toBe(`zfs hold ${hold.type === 'command' ? hold.argv[2] : ''} 'zfs-hdd/rtest-fx/spaces/my data@snap one'`);
  });

  it('destructive lines are marked (never sent with Enter)', () => {
    const plan = planSync(scenarioPair('newer'), fuseListing('newer', 'off1'), fuseListing('newer', 'ovh3'), { newSnapshotName: 'x' });
    const { lines } = planToShell(plan);
    expect(lines.filter((l) => l.destructive).map((l) => l.line)).toEqual([`zfs rollback -r ${R2}/newer/fs@20230515-0000`]);
    expect(lines.find((l) => l.runOn === 'local')!.line).toBe(
      `ssh off1 'zfs send -I ${R1}/newer/fs@20230515-0000 ${R1}/newer/fs@x' | ssh ovh3 'zfs recv ${R2}/newer/fs'`,
    );
  });
});

describe('relay lines with the host "local"', () => {
  it('the local side runs on this machine, not through `ssh local`', () => {
    const step: PlanStep = {
      id: 's1',
      type: 'pipe',
      op: 'send',
      route: 'relay',
      from: { host: 'local', argv: ['zfs', 'send', 'tank/a@s'] },
      to: { host: 'ovh3', argv: ['zfs', 'recv', 'rpool/my data'] },
      description: 'send',
      destroys: emptyDestroys(),
      confirm: false,
    };
    const plan = makePlan({ kind: 'sync', title: 't', summary: 's', steps: [step], preconditions: [], warnings: [] });
    expect(planToShell(plan, { ssh: (h) => ['ssh', '--', h] }).lines[0]!.line).toBe("zfs send tank/a@s | ssh -- ovh3 'zfs recv '\\''rpool/my data'\\'''");
    const back = makePlan({
      kind: 'sync',
      title: 't',
      summary: 's',
      steps: [{ ...step, from: step.to, to: { host: 'local', argv: ['zfs', 'recv', 'tank/b'] } } as PlanStep],
      preconditions: [],
      warnings: [],
    });
    expect(planToShell(back, { ssh: (h) => ['ssh', '--', h] }).lines[0]!.line).toBe("ssh -- ovh3 'zfs recv '\\''rpool/my data'\\''' | zfs recv tank/b");
  });
});
