/** The permission audit on delegations recorded from OpenZFS 2.3.2 (the lab VM), and the gatherer replaying those recordings. */
import { describe, expect, it } from 'vitest';
import {
  auditPairPermissions,
  auditPermissions,
  formatPermissionAudit,
  gatherPermissionFacts,
  hostDelegations,
  ID_COMMAND,
  parseIdOutput,
  propertyPermission,
  type AuditSide,
  type HostPermissionReport,
  type PermissionAuditInput,
  type SyncPlanFlags,
  type UserIdentity,
} from '../../../src/core/fleet/permissions.js';
import { parsePair, type PairSpec } from '../../../src/core/fleet/pairs.js';
import { parseZfsAllow } from '../../../src/core/zfs/allow.js';
import { shellJoin } from '../../../src/core/zfs/quote.js';
import type { Runner, RunResult } from '../../../src/core/runner.js';
import { recorded, recordedNames } from '../core/fixtures.js';

const allow = (name: string) => {
  const r = recorded('openzfs-2.3', name);
  expect(r.exit).toBe(0);
  return { dataset: r.cmd.split(' ').at(-1)!, allow: parseZfsAllow(r.stdout, r.cmd) };
};
const operator = parseIdOutput(recorded('openzfs-2.3', 'operator_id_names').stdout);
const root = parseIdOutput(recorded('openzfs-2.3', 'root_id_names').stdout);

/** The VM as `vm.sh up` leaves it: operator with hold,send on tank, the seed-like set on backup; backup/off exists, its children not. */
const vmSource = (user: UserIdentity = operator): AuditSide => ({ user, delegations: hostDelegations([allow('operator_zfs_allow_products')]) });
const vmTarget = (user: UserIdentity = operator): AuditSide => ({ user, delegations: hostDelegations([allow('operator_zfs_allow_backup_off')]) });

const NO_EXTRAS: SyncPlanFlags = { holds: false, snapshot: false, rollback: false, destroy: false, resume: false };
const FULL_PLAN: SyncPlanFlags = { holds: true, snapshot: false, rollback: true, destroy: true, resume: true };

function input(
  spec: Partial<PairSpec> & { options?: PairSpec['options'] },
  plan: SyncPlanFlags,
  source = vmSource(),
  target = vmTarget(),
): PermissionAuditInput {
  const pair = parsePair({ source: 'zfsvm-operator:tank/off/products', target: 'zfsvm-operator:backup/off/products', route: 'pull', ...spec });
  return { pair, plan, source, target };
}
const side = (reports: HostPermissionReport[], s: 'source' | 'target', user?: string) =>
  reports.filter((r) => r.side === s && (user === undefined || r.user === user));
const one = (reports: HostPermissionReport[], s: 'source' | 'target', user?: string) => {
  const r = side(reports, s, user);
  expect(r).toHaveLength(1);
  return r[0]!;
};

describe('users', () => {
  it('reads `id -un && id -u && id -Gn && id -G`', () => {
    expect(recorded('openzfs-2.3', 'operator_id_names').cmd).toBe(ID_COMMAND);
    expect(operator).toEqual({ user: 'operator', uid: 1000, groups: ['operator'], gids: [37] });
    expect(root).toEqual({ user: 'root', uid: 0, groups: ['root'], gids: [0] });
    expect(() => parseIdOutput('id: invalid option')).toThrow(/unexpected output/);
  });

  it('maps properties to their permission (user properties: userprop)', () => {
    expect(propertyPermission('compression')).toBe('compression');
    expect(propertyPermission('org.example:tag')).toBe('userprop');
  });
});

describe('auditPermissions on the VM delegations (seed 001: operator with hold,send on the source)', () => {
  it('a pull by operator with holds, rollback, destroy and resume lacks nothing; the hold it cannot release is a warning', () => {
    const a = auditPermissions(input({}, FULL_PLAN));
    expect(a.ok).toBe(true);
    const src = one(a.reports, 'source');
    expect(src).toMatchObject({
      host: 'zfsvm-operator',
      user: 'operator',
      root: false,
      dataset: 'tank/off/products',
      required: ['hold', 'send'],
      lacking: [],
      roles: ['commands', 'stream'],
    });
    expect(src.fix).toBeUndefined();
    expect(src.warnings).toHaveLength(1);
    expect(src.warnings[0]).toMatch(/may hold snapshots of tank\/off\/products but not release them/);
    expect(src.warnings[0]).toContain('zfs allow -u operator release tank/off/products');
    const dst = one(a.reports, 'target');
    expect(dst).toMatchObject({
      user: 'operator',
      dataset: 'backup/off/products',
      required: ['create', 'destroy', 'hold', 'mount', 'receive', 'release', 'rollback'],
      lacking: [],
      warnings: [],
    });
    expect(dst.notes.join('\n')).toMatch(/zfs recv -u/);
  });

  it('taking a snapshot first needs snapshot on the source, and says how to grant it', () => {
    const a = auditPermissions(input({}, { ...NO_EXTRAS, snapshot: true }));
    expect(a.ok).toBe(false);
    const src = one(a.reports, 'source');
    expect(src.lacking).toEqual(['snapshot']);
    expect(src.details).toEqual([{ permission: 'snapshot', dataset: 'tank/off/products', on: 'dataset', why: ['zfs snapshot tank/off/products@…'] }]);
    expect(src.fix).toEqual({
      dataset: 'tank/off/products',
      argv: ['zfs', 'allow', '-u', 'operator', 'snapshot', 'tank/off/products'],
      command: 'zfs allow -u operator snapshot tank/off/products',
    });
    expect(one(a.reports, 'target').lacking).toEqual([]);
  });

  it('with -p, each property the stream carries: recorded images has recordsize, which backup does not delegate', () => {
    const props = recorded('openzfs-2.3', 'operator_zfs_get_props_images').stdout.split('\n').filter(Boolean);
    expect(props).toEqual(['recordsize']);
    const a = auditPermissions({
      ...input({ source: 'zfsvm-operator:tank/off/images', target: 'zfsvm-operator:backup/off/images', options: { properties: true } }, NO_EXTRAS),
      streamProperties: props,
    });
    const dst = one(a.reports, 'target');
    expect(dst.lacking).toEqual(['recordsize']);
    // backup/off/images does not exist: the grant goes on the parent, where the first receive is checked.
    expect(dst.fix?.command).toBe('zfs allow -u operator recordsize backup/off');
    expect(dst.details[0]).toMatchObject({ permission: 'recordsize', dataset: 'backup/off/images', on: 'created' });
    // products carries no property of its own.
    expect(recorded('openzfs-2.3', 'operator_zfs_get_props_products').stdout).toBe('');
    expect(auditPermissions({ ...input({ options: { properties: true } }, NO_EXTRAS), streamProperties: [] }).ok).toBe(true);
  });

  it("user properties need userprop; an unknown property list assumes the seed's compression,mountpoint (delegated on backup)", () => {
    const props = recorded('openzfs-2.3', 'root_zfs_get_local_received')
      .stdout.split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t')[1]!);
    expect(props.sort()).toEqual(['compression', 'mountpoint', 'org.example:tag', 'recordsize']);
    const a = auditPermissions({ ...input({ options: { properties: true } }, NO_EXTRAS), streamProperties: props });
    expect(one(a.reports, 'target').lacking).toEqual(['recordsize', 'userprop']);
    const assumed = auditPermissions(input({ options: { properties: true } }, NO_EXTRAS));
    expect(assumed.ok).toBe(true);
    expect(one(assumed.reports, 'target').required).toEqual(expect.arrayContaining(['compression', 'mountpoint']));
    expect(one(assumed.reports, 'target').notes.join('\n')).toMatch(/not known: compression, mountpoint assumed/);
  });

  it('root needs nothing', () => {
    const a = auditPermissions(input({}, { ...FULL_PLAN, snapshot: true }, vmSource(root), vmTarget(root)));
    expect(a.ok).toBe(true);
    for (const r of a.reports) expect(r).toMatchObject({ root: true, lacking: [], warnings: [] });
  });

  it("pull: zfs send runs as the user the target reaches the source as; the product's own commands as its user there", () => {
    const a = auditPermissions(input({}, { ...FULL_PLAN, snapshot: true }, { ...vmSource(root), streamUser: operator }));
    const reports = side(a.reports, 'source');
    expect(reports.map((r) => [r.user, r.roles, r.lacking])).toEqual([
      ['operator', ['stream'], []],
      ['root', ['commands'], []],
    ]);
    expect(one(a.reports, 'source', 'operator').required).toEqual(['send']);
    // push: the stream user of the target is the one that receives.
    const push = auditPermissions(input({ route: 'push' }, { ...FULL_PLAN, snapshot: true }, vmSource(root), { ...vmTarget(root), streamUser: operator }));
    expect(side(push.reports, 'target').map((r) => [r.user, r.roles])).toEqual([
      ['operator', ['stream']],
      ['root', ['commands']],
    ]);
    // relay: one user per host, whatever streamUser says.
    const relay = auditPermissions(input({ route: 'relay' }, FULL_PLAN, { ...vmSource(), streamUser: root }));
    expect(side(relay.reports, 'source').map((r) => r.user)).toEqual(['operator']);
  });

  it('without streamUser, a pull says whose identity it assumed', () => {
    const a = auditPermissions(input({}, NO_EXTRAS));
    expect(one(a.reports, 'source').notes.join('\n')).toMatch(
      /pull: zfs send runs as the user the target host's ssh reaches zfsvm-operator as; assumed to be operator/,
    );
  });

  it('a host without delegation (zfs-fuse) cannot be used by non-root', () => {
    const a = auditPermissions(input({}, NO_EXTRAS, vmSource(), { user: operator, delegations: hostDelegations([], false) }));
    const dst = one(a.reports, 'target');
    expect(dst.lacking).toEqual(['create', 'mount', 'receive']);
    expect(dst.warnings[0]).toMatch(/no delegation/);
  });
});

describe('auditPermissions on recorded shapes', () => {
  it('Local-only grants on the parent: the first receive passes, every later one fails (checked on the new dataset)', () => {
    const target: AuditSide = { user: operator, delegations: hostDelegations([allow('root_zfs_allow_local_only')]) };
    const a = auditPermissions(input({ target: 'zfsvm-operator:tank/zfs-fleet-allow-local/new' }, NO_EXTRAS, vmSource(), target));
    const dst = one(a.reports, 'target');
    expect(dst.lacking).toEqual(['create', 'mount', 'receive']);
    expect(dst.details.every((d) => d.on === 'created' && d.dataset === 'tank/zfs-fleet-allow-local/new')).toBe(true);
    expect(dst.details[0]!.why[0]).toMatch(/every later incremental receive/);
    expect(dst.fix?.command).toBe('zfs allow -u operator create,mount,receive tank/zfs-fleet-allow-local');
    // Once the dataset exists with its own Local grant (what create-time permissions would give), it is fine.
  });

  it('receive:append stands in for receive, except with recv -F; create-time permissions count for the creator only', () => {
    const target: AuditSide = { user: operator, delegations: hostDelegations([allow('root_zfs_allow_shapes')]) };
    const T = 'zfsvm-operator:tank/zfs-fleet-allow/new';
    const plain = auditPermissions(input({ target: T }, { ...FULL_PLAN, rollback: false }, vmSource(), target));
    expect(one(plain.reports, 'target').lacking).toEqual([]);
    expect(one(plain.reports, 'target').notes.join('\n')).toMatch(/receive:append \(not receive\) is delegated: zfs recv -F will be refused/);
    const forced = auditPermissions(input({ target: T }, { ...NO_EXTRAS, force: true }, vmSource(), target));
    expect(one(forced.reports, 'target').details).toEqual([
      { permission: 'receive', dataset: 'tank/zfs-fleet-allow', on: 'dataset', why: [expect.stringMatching(/recv -F .*first, full receive/)] },
    ]);
    const rollback = auditPermissions(input({ target: T }, FULL_PLAN, vmSource(), target));
    expect(one(rollback.reports, 'target').lacking).toEqual(['rollback']);
    // push with a different receiving user: root's rollback... the product user (uid 4242-like) is not the creator.
    const other: UserIdentity = { user: 'backupbot', uid: 4242, groups: ['backupbot'], gids: [4242] };
    const push = auditPermissions(
      input({ route: 'push', target: T }, { ...NO_EXTRAS, holds: true }, vmSource(), { ...target, user: other, streamUser: operator }),
    );
    expect(one(push.reports, 'target', 'operator').lacking).toEqual([]);
    expect(one(push.reports, 'target', 'backupbot').lacking).toEqual(['hold', 'release']);
  });

  it('send is checked on snapshots: a Local-only send on the source does not count; recursive pairs check every descendant', () => {
    const u4242: UserIdentity = { user: 'u4242', uid: 4242, groups: [], gids: [] };
    const source: AuditSide = {
      user: u4242,
      delegations: hostDelegations([allow('root_zfs_allow_shapes_child'), allow('root_zfs_allow_created_by_operator')]),
      descendants: ['tank/zfs-fleet-allow/child', 'tank/zfs-fleet-allow/made'],
    };
    const a = auditPermissions(
      input({ source: 'vm:tank/zfs-fleet-allow', options: { recursive: true } }, { ...NO_EXTRAS, snapshot: true }, source, { ...vmTarget(root) }),
    );
    const src = one(a.reports, 'source');
    expect(src.required).toEqual(['send', 'snapshot']);
    expect(src.lacking).toEqual(['snapshot']);
    expect(src.details.map((d) => d.dataset)).toEqual(['tank/zfs-fleet-allow', 'tank/zfs-fleet-allow/child', 'tank/zfs-fleet-allow/made']);
    expect(src.fix?.command).toBe('zfs allow -u u4242 snapshot tank/zfs-fleet-allow');
    // The operator's Local `compression,snapshot` on child: snapshot there comes from the group grant on the parent anyway.
    const op = auditPermissions(
      input(
        { source: 'vm:tank/zfs-fleet-allow', options: { recursive: true } },
        { ...NO_EXTRAS, snapshot: true },
        { ...source, user: operator },
        vmTarget(root),
      ),
    );
    expect(one(op.reports, 'source').lacking).toEqual([]);
  });

  it('datasets whose delegations were not read are named in a warning', () => {
    const a = auditPermissions(input({}, NO_EXTRAS, { user: operator, delegations: hostDelegations([]) }));
    expect(one(a.reports, 'source').warnings.join('\n')).toMatch(/delegations on tank, tank\/off, tank\/off\/products were not read/);
  });

  it('every permission the audit can ask for is one OpenZFS 2.3.2 knows (its `zfs allow` list, plus receive:append)', () => {
    const usage = recorded('openzfs-2.3', 'root_zfs_allow_usage');
    const known = new Set(
      usage.stderr
        .split('\n')
        .map((l) => /^(\S+)\s+(subcommand|other|property)\b/.exec(l)?.[1])
        .filter((x): x is string => !!x),
    );
    known.add('receive:append');
    const everything = auditPermissions({
      ...input(
        { options: { properties: true } },
        { holds: true, snapshot: true, rollback: true, destroy: true, resume: true, force: true, bookmark: true },
        vmSource({ user: 'x', uid: 5, groups: [] }),
        vmTarget({ user: 'x', uid: 5, groups: [] }),
      ),
      streamProperties: ['compression', 'mountpoint', 'recordsize', 'org.example:tag'],
    });
    const asked = everything.reports.flatMap((r) => r.required);
    expect(asked.length).toBeGreaterThan(10);
    for (const p of asked) expect(known, p).toContain(p);
  });

  it('formats for the CLI', () => {
    const text = formatPermissionAudit(auditPermissions(input({}, { ...FULL_PLAN, snapshot: true })));
    expect(text).toContain('source zfsvm-operator:tank/off/products as operator [commands, stream]: lacks snapshot');
    expect(text).toContain('fix (as root on zfsvm-operator): zfs allow -u operator snapshot tank/off/products');
    expect(text).toMatch(/target zfsvm-operator:backup\/off\/products as operator \[commands, stream\]: ok/);
  });
});

/** A Runner answering with the recorded outputs, by command line. */
class ReplayRunner implements Runner {
  readonly asked: string[] = [];
  private readonly byCmd = new Map<string, string>();
  constructor(
    readonly label: string,
    names: string[],
  ) {
    for (const n of names) this.byCmd.set(recorded('openzfs-2.3', n).cmd, n);
  }
  async run(argv: readonly string[]): Promise<RunResult> {
    // `sh -c CMD` and `ssh ... HOST CMD` (the other host reaching this one) are recorded as CMD.
    const line = argv[0] === 'sh' && argv[1] === '-c' ? argv[2]! : argv[0] === 'ssh' ? argv.at(-1)! : shellJoin(argv);
    this.asked.push(line);
    const name = this.byCmd.get(line);
    if (!name) return { exitCode: 127, stdout: '', stderr: `not recorded: ${line}` };
    const r = recorded('openzfs-2.3', name);
    return { exitCode: r.exit, stdout: r.stdout, stderr: r.stderr };
  }
  async dispose(): Promise<void> {}
}

describe('gatherPermissionFacts, replaying the VM', () => {
  const operatorNames = recordedNames('openzfs-2.3', /^operator_(id_names|zfs_allow_images|zfs_allow_backup_off|err_allow_missing|zfs_get_props_)/);

  it("asks id, zfs allow of each dataset (walking up from a missing target) and the stream's properties; the audit follows", async () => {
    const runner = new ReplayRunner('zfsvm-operator', operatorNames);
    const host = { name: 'zfsvm-operator', runner };
    const pair = parsePair({
      source: 'zfsvm-operator:tank/off/images',
      target: 'zfsvm-operator:backup/off/zfs-fleet-missing',
      route: 'pull',
      options: { properties: true },
    });
    const audit = await auditPairPermissions(pair, { source: host, target: host }, FULL_PLAN);
    expect(runner.asked.sort()).toEqual(
      [
        ID_COMMAND,
        ID_COMMAND,
        'zfs allow tank/off/images',
        'zfs allow backup/off/zfs-fleet-missing',
        'zfs allow backup/off',
        'zfs get -H -s local,received -o property all tank/off/images',
      ].sort(),
    );
    expect(audit.facts.target.exists).toBe(false);
    expect(audit.facts.streamProperties).toEqual(['recordsize']);
    expect(one(audit.reports, 'target').fix?.command).toBe('zfs allow -u operator recordsize backup/off');
  });

  it("reads the pull's send identity through the target's ssh when its argv is given; recursive pairs ask each descendant", async () => {
    const source = new ReplayRunner('zfsvm', ['root_id_names', 'operator_zfs_allow_images']);
    const target = new ReplayRunner('zfsvm-operator', operatorNames);
    const pair = parsePair({ source: 'zfsvm:tank/off/images', target: 'zfsvm-operator:backup/off/zfs-fleet-missing', route: 'pull' });
    const sshFromTarget = ['ssh', '-o', 'BatchMode=yes', 'operator@vm'];
    const facts = await gatherPermissionFacts(
      pair,
      { source: { name: 'zfsvm', runner: source }, target: { name: 'zfsvm-operator', runner: target } },
      { sshFromTarget },
    );
    expect(facts.source.user.user).toBe('root');
    expect(facts.source.streamUser?.user).toBe('operator');
    expect(facts.commands.filter((c) => c.host === 'zfsvm-operator').map((c) => c.argv[0])).toContain('ssh');
    expect(facts.streamProperties).toBeUndefined();
    const a = auditPermissions({ pair, plan: { ...NO_EXTRAS, snapshot: true, holds: true }, source: facts.source, target: facts.target });
    expect(side(a.reports, 'source').map((r) => [r.user, r.roles, r.lacking])).toEqual([
      ['operator', ['stream'], []],
      ['root', ['commands'], []],
    ]);
  });

  it('a missing source is an error, not an audit', async () => {
    const runner = new ReplayRunner('zfsvm-operator', operatorNames);
    const host = { name: 'zfsvm-operator', runner };
    const pair = parsePair({ source: 'zfsvm-operator:backup/off/zfs-fleet-missing', target: 'zfsvm-operator:tank/off/images', route: 'pull' });
    await expect(gatherPermissionFacts(pair, { source: host, target: host })).rejects.toThrow(
      /backup\/off\/zfs-fleet-missing': dataset does not exist \(the source of the pair\)/,
    );
  });

  it("a recursive pair lists the source's descendants, asks zfs allow of each, and the properties of all", async () => {
    const runner = new ReplayRunner(
      'zfsvm-operator',
      recordedNames('openzfs-2.3', /^operator_(id_names|zfs_allow_|err_allow_missing|zfs_list_off_children|zfs_get_props_off_r)/),
    );
    const host = { name: 'zfsvm-operator', runner };
    const pair = parsePair({
      source: 'zfsvm-operator:tank/off',
      target: 'zfsvm-operator:backup/off/zfs-fleet-missing',
      route: 'relay',
      options: { recursive: true },
    });
    const audit = await auditPairPermissions(pair, { source: host, target: host }, FULL_PLAN);
    expect(audit.facts.source.descendants).toEqual(['tank/off/images', 'tank/off/products', 'tank/off/users']);
    expect(runner.asked).toEqual(expect.arrayContaining(['zfs allow tank/off/images', 'zfs allow tank/off/products', 'zfs allow tank/off/users']));
    expect(audit.facts.streamProperties).toEqual(['recordsize']);
    const src = one(audit.reports, 'source');
    expect(src.lacking).toEqual([]);
    expect(src.warnings).toHaveLength(1);
    expect(one(audit.reports, 'target').lacking).toEqual(['recordsize']);
  });
});
