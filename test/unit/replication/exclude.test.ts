/**
 * A recursive pair's `exclude` (issue 12 §6): patterns checked where the fleet file is read, the
 * children they leave out of a `zfs send -R -X` plan (listed in it), the state not counting them,
 * and the refusal where the source's zfs has no -X. Listings recorded from OpenZFS 2.3 (the lab VM:
 * tank/off with products, images and users, snapshotted recursively) and zfs-fuse's capabilities.
 */
import { describe, expect, it } from 'vitest';
import { excludeMatcher, excludePatternProblem, splitExcluded } from '../../../src/core/fleet/exclude.js';
import { fileEntries } from '../../../src/core/fleet/definition.js';
import { planSync } from '../../../src/core/replication/sync.js';
import { pairState } from '../../../src/core/replication/state.js';
import { DEFAULT_THRESHOLDS, evaluateCheck } from '../../../src/core/monitor/check.js';
import { fleetFacts } from '../../../src/core/monitor/facts.js';
import { factsFromObservations, observationsOfFacts } from '../../../src/store/observations.js';
import { capabilities, openzfsListing, openzfsListingWithout, pair, planError } from './fixtures.js';

const tank = openzfsListing('root_zfs_list_tank', 'src');
const sends = (p: ReturnType<typeof planSync>) => p.steps.map((s) => (s.type === 'pipe' ? s.from.argv : s.argv)).filter((a) => a[1] === 'send');

describe('exclude patterns', () => {
  it('match child paths relative to the source: * within a component, ** across, ? one character', () => {
    const m = excludeMatcher(['tmp', 'vms/*/scratch', 'cache?', 'logs/**']);
    expect(['tmp', 'vms/a/scratch', 'cache1', 'logs/x', 'logs/x/y'].map(m)).toEqual([true, true, true, true, true]);
    expect(['tmp/sub', 'tmpx', 'vms/a/b/scratch', 'cache10', 'logs', 'a/tmp'].map(m)).toEqual([false, false, false, false, false, false]);
    expect(excludeMatcher(['**/scratch'])('a/b/scratch')).toBe(true);
    expect(excludeMatcher(['**/scratch'])('scratch')).toBe(true);
  });

  it('a matched child goes with everything below it; -X gets the topmost ones only', () => {
    const children = ['p/s/keep', 'p/s/keep/deep', 'p/s/tmp', 'p/s/tmp/sub', 'p/s/tmp/sub/x', 'p/s/cache1'];
    expect(splitExcluded('p/s', children, ['tmp', 'cache*', 'keep/deep/none'])).toEqual({
      roots: ['p/s/tmp', 'p/s/cache1'],
      all: ['p/s/tmp', 'p/s/tmp/sub', 'p/s/tmp/sub/x', 'p/s/cache1'],
      sent: ['p/s/keep', 'p/s/keep/deep'],
    });
    expect(splitExcluded('p/s', children, undefined).sent).toEqual(children);
  });

  it('bad patterns and exclude without recursive are refused where the fleet file is read, naming what is wrong', () => {
    expect(excludePatternProblem('/tank/tmp')).toMatch(/relative to the source/);
    expect(excludePatternProblem('tmp@snap')).toMatch(/names a snapshot or bookmark/);
    expect(excludePatternProblem('a**')).toMatch(/stands alone/);
    expect(excludePatternProblem('a/../b')).toMatch(/is not a dataset path/);
    expect(excludePatternProblem('')).toMatch(/non-empty string/);
    expect(excludePatternProblem('vms/*/scratch')).toBeUndefined();
    const read = (options: unknown) =>
      fileEntries({
        file: '.zfs-fleet.json',
        text: JSON.stringify({ groups: [{ name: 'g', primary: 'a:tank/off', replicas: ['b:backup/off'], options }] }),
      })[0]!;
    expect(read({ recursive: true, exclude: ['images'] })).toMatchObject({ ok: true, pair: { options: { recursive: true, exclude: ['images'] } } });
    expect(read({ exclude: ['images'] })).toMatchObject({ ok: false, reason: expect.stringContaining('option "exclude" needs "recursive": true') });
    expect(read({ recursive: true, exclude: 'images' })).toMatchObject({ ok: false, reason: expect.stringContaining('must be a list') });
    expect(read({ recursive: true, exclude: ['images', '/tank/x'] })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('option "exclude": "/tank/x"'),
    });
  });
});

describe('a recursive sync with excluded children (OpenZFS 2.3 listings)', () => {
  const p = pair('src:tank/off', 'dst:backup/copy', { recursive: true, exclude: ['images'] });

  it('a full send leaves them out with -X, and the plan lists them', () => {
    const dst = openzfsListing('root_zfs_list_backup', 'dst');
    const plan = planSync(p, tank, dst);
    expect(sends(plan)).toContainEqual(['zfs', 'send', '-R', '-X', 'tank/off/images', '-L', '-c', 'tank/off@20230530-2330']);
    expect(sends(plan)).toContainEqual(['zfs', 'send', '-n', '-v', '-P', '-R', '-X', 'tank/off/images', '-L', '-c', 'tank/off@20230530-2330']);
    expect(plan.summary).toContain("Left out by the pair's exclude patterns (not sent, not counted): tank/off/images.");
    expect(plan.steps.find((s) => s.type === 'pipe')!.description).toContain('except the 1 excluded (-X)');
  });

  it('an incremental send too; a child the target received before it was excluded is kept, not updated, and said', () => {
    const dst = openzfsListingWithout('root_zfs_list_tank', 'dst', (n) => n.endsWith('@20230530-2330'));
    const plan = planSync(pair('src:tank/off', 'dst:tank/off', { recursive: true, exclude: ['images'] }), tank, dst);
    expect(sends(plan)).toContainEqual(['zfs', 'send', '-R', '-X', 'tank/off/images', '-L', '-c', '-I', 'tank/off@20230515-0000', 'tank/off@20230530-2330']);
    expect(plan.destroys.datasets).toEqual([]);
    expect(plan.warnings.join('\n')).toContain(
      'dst has tank/off/images, received before it was excluded: left as it is (nothing is destroyed) and no longer updated.',
    );
  });

  it('patterns that match nothing: every descendant is sent, and the plan says the patterns matched nothing', () => {
    const plan = planSync(
      pair('src:tank/off', 'dst:backup/copy', { recursive: true, exclude: ['scratch'] }),
      tank,
      openzfsListing('root_zfs_list_backup', 'dst'),
    );
    expect(sends(plan).every((a) => !a.includes('-X'))).toBe(true);
    expect(plan.warnings).toContain("The pair's exclude patterns (scratch) match no child of src:tank/off: every descendant is sent.");
  });

  it("refused where the source's zfs has no send -X (zfs-fuse), never sent whole instead", () => {
    const fuseSource = { ...tank, capabilities: capabilities('off1') };
    const e = planError(() => planSync(p, fuseSource, openzfsListing('root_zfs_list_backup', 'dst')));
    expect(e.code).toBe('unsupported');
    expect(e.message).toContain(
      "the pair excludes tank/off/images, but src's zfs (zfs-fuse 0.7.0) cannot leave children out of a recursive stream (zfs send -X needs OpenZFS 2.2 or later)",
    );
  });

  it('the state counts the replicated descendants only; the excluded ones are named, not counted', () => {
    const dst = openzfsListingWithout('root_zfs_list_tank', 'dst', (n) => n.startsWith('tank/off/users') || n.endsWith('@20230530-2330'));
    const st = pairState(pair('src:tank/off', 'dst:tank/off', { recursive: true, exclude: ['images'] }), tank, dst);
    expect(st.descendants).toEqual({ sent: 2, excluded: ['tank/off/images'], excludedCount: 1, missing: ['tank/off/users'], lost: ['tank/off/users'] });
    expect(st.summary).toContain("Excluded by the pair's patterns (neither sent nor counted): tank/off/images.");
    expect(st.summary).toContain('The target lacks tank/off/users, which the source had at the common base');
    const all = pairState(pair('src:tank/off', 'dst:tank/off', { recursive: true }), tank, dst);
    expect(all.descendants).toEqual({ sent: 3, excluded: [], excludedCount: 0, missing: ['tank/off/users'], lost: ['tank/off/users'] });
  });

  it('check: a replica lacking a child the source had at the base is CRITICAL (the sync is refused), from the store too; excluded, it is not', () => {
    const dst = openzfsListingWithout('root_zfs_list_tank', 'dst', (n) => n.startsWith('tank/off/users') || n.endsWith('@20230530-2330'));
    const judge = (options: { recursive: true; exclude?: string[] }) => {
      const p = pair('src:tank/off', 'dst:tank/off', options);
      const facts = fleetFacts({
        hosts: [
          { host: 'src', listing: tank },
          { host: 'dst', listing: dst },
        ],
        pairs: [p],
        now: Date.parse('2023-06-09T00:00:00Z'),
      });
      return { live: evaluateCheck(facts, { ...DEFAULT_THRESHOLDS, staleAfterSeconds: 3650 * 86400 }), facts, p };
    };
    const { live, facts, p } = judge({ recursive: true });
    const lost = live.findings.filter((f) => f.kind === 'pair-incomplete');
    expect(lost).toEqual([
      {
        severity: 'critical',
        kind: 'pair-incomplete',
        subject: p.id,
        short: `${p.id} replica lacks 1 child`,
        message: `${p.id}: the replica lacks tank/off/users, which the source had at the common base: the recursive sync is refused until it is sent on its own or excluded`,
      },
    ]);
    expect(live.severity).toBe('critical');
    // What the agent records and check --from-store judges says the same.
    const now = facts.now;
    const obs = observationsOfFacts(facts);
    const stored = factsFromObservations({
      hosts: ['src', 'dst'],
      pairs: [p],
      latest: { hosts: obs.hosts, pools: obs.pools, datasets: obs.datasets, pairs: obs.pairs },
      now,
      maxAgeSeconds: 300,
    });
    const fromStore = evaluateCheck(stored.facts, { ...DEFAULT_THRESHOLDS, staleAfterSeconds: 3650 * 86400 });
    expect(fromStore.findings.filter((f) => f.kind === 'pair-incomplete')).toEqual(lost);
    expect(judge({ recursive: true, exclude: ['users'] }).live.findings.filter((f) => f.kind === 'pair-incomplete')).toEqual([]);
  });

  it('a child the target lacks though the source had it at the base (excluded once, now not) is refused: the receive would stop half done', () => {
    const dst = openzfsListingWithout('root_zfs_list_tank', 'dst', (n) => n.startsWith('tank/off/users') || n.endsWith('@20230530-2330'));
    const e = planError(() => planSync(pair('src:tank/off', 'dst:tank/off', { recursive: true }), tank, dst));
    expect(e.message).toContain('dst: tank/off lacks tank/off/users, which src had at the common base @20230515-0000');
    expect(e.message).toContain("or add it to the pair's exclude");
    // Excluded, it is left alone.
    expect(planSync(pair('src:tank/off', 'dst:tank/off', { recursive: true, exclude: ['users'] }), tank, dst).steps.length).toBeGreaterThan(0);
  });

  it('a descendant without the snapshot sent is refused before anything runs, excluded ones too (zfs send -R needs it everywhere)', () => {
    const src = openzfsListingWithout('root_zfs_list_tank', 'src', (n) => n === 'tank/off/images@20230530-2330');
    const dst = openzfsListing('root_zfs_list_backup', 'dst');
    const e = planError(() => planSync(p, src, dst));
    expect(e.code).toBe('no-source-snapshot');
    expect(e.message).toBe(
      'src: a recursive send of @20230530-2330 needs it on every descendant (excluded ones too), and tank/off/images lacks it. Snapshot it (zfs snapshot tank/off/images@20230530-2330), or sync with a new snapshot (taken recursively).',
    );
    // A new snapshot is taken recursively: nothing lacks it.
    expect(planSync(p, src, dst, { newSnapshotName: 'now' }).steps[0]).toMatchObject({ argv: ['zfs', 'snapshot', '-r', 'tank/off@now'] });
  });
});
