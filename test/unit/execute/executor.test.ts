/**
 * executePlan against a scripted Runner: cleanups after a failure, steps that may fail, declined,
 * cancelled, changed hosts. The Runner is a stand-in for what the lab cannot do on demand (make the
 * Nth command of a plan fail, or a hold refuse); the plans come from listings recorded from real ZFS,
 * and the real runs are tested against the lab (test/integration/execute.test.ts and the CLI tests).
 */
import { describe, expect, it } from 'vitest';
import { executePlan, type ExecEvent } from '../../../src/core/execute/executor.js';
import type { HostListing } from '../../../src/core/fleet/listing.js';
import { silentLogger } from '../../../src/core/log.js';
import { planRollback } from '../../../src/core/replication/rollback.js';
import { planSync } from '../../../src/core/replication/sync.js';
import type { Plan } from '../../../src/core/replication/plan.js';
import type { RunOptions, RunResult, Runner } from '../../../src/core/runner.js';
import { R2, fuseListing, openzfsListing, pair, scenarioPair } from '../replication/fixtures.js';

type Script = (host: string, argv: readonly string[]) => RunResult | undefined;

/** A Runner per host: sends write 1000 bytes, receives read their input to the end; `script` overrides a command's result. */
function fakeDeps(listings: Map<string, HostListing>, script: Script = () => undefined) {
  const ran: string[] = [];
  const runner = (host: string): Runner => ({
    label: host,
    dispose: async () => {},
    async run(argv: readonly string[], o: RunOptions = {}): Promise<RunResult> {
      ran.push(`${host}: ${argv.join(' ')}`);
      const scripted = script(host, argv);
      if (scripted) return scripted;
      if (o.stdout) o.stdout.end(Buffer.alloc(1000));
      if (o.stdin && typeof o.stdin === 'object' && 'on' in o.stdin) {
        const input = o.stdin;
        await new Promise<void>((res) => input.on('data', () => {}).on('end', () => res()));
      }
      return { exitCode: 0, stdout: '', stderr: '' };
    },
  });
  return { ran, deps: { runner, freshListing: async (h: string) => listings.get(h)!, logger: silentLogger } };
}

const fail = (stderr: string): RunResult => ({ exitCode: 1, stdout: '', stderr });
const src = fuseListing('behind', 'off1');
const dst = fuseListing('behind', 'ovh3');
const listings = new Map([
  ['off1', src],
  ['ovh3', dst],
]);
/** hold, hold, send, release, release (zfs-fuse: no bookmarks). */
const behind = (): Plan => planSync(scenarioPair('behind'), src, dst);

describe('executePlan', () => {
  it('runs the steps in order, counts the relayed bytes', async () => {
    const plan = behind();
    const { ran, deps } = fakeDeps(listings);
    const events: ExecEvent['type'][] = [];
    const r = await executePlan(plan, deps, { onEvent: (e) => events.push(e.type) });
    expect(r.outcome).toBe('ok');
    expect(r.bytes).toBe(1000);
    expect(r.steps.map((s) => s.status)).toEqual(plan.steps.map(() => 'ok'));
    expect(ran.map((l) => l.split(' ').slice(0, 3).join(' '))).toEqual([
      'off1: zfs hold',
      'ovh3: zfs hold',
      'off1: zfs send',
      'ovh3: zfs recv',
      'ovh3: zfs release',
      'off1: zfs release',
    ]);
    expect(events.filter((t) => t !== 'progress')).toEqual(['checking', ...plan.steps.flatMap(() => ['step-start', 'step-done'])]);
  });

  it('a failed receive fails the run; the holds taken are still released (cleanup)', async () => {
    const plan = behind();
    const { ran, deps } = fakeDeps(listings, (_h, argv) =>
      argv[1] === 'recv' ? fail('cannot receive incremental stream: destination has been modified since most recent snapshot\n') : undefined,
    );
    const r = await executePlan(plan, deps);
    expect(r.outcome).toBe('failed');
    expect(r.error).toContain('destination has been modified');
    expect(r.steps.map((s) => s.status)).toEqual(['ok', 'ok', 'failed', 'ok', 'ok']);
    expect(ran.filter((l) => l.includes('release'))).toHaveLength(2);
  });

  it('the second hold fails: only the first is released', async () => {
    const { ran, deps } = fakeDeps(listings, (h, argv) => (argv[1] === 'hold' && h === 'ovh3' ? fail('cannot hold snapshot: permission denied\n') : undefined));
    const r = await executePlan(behind(), deps);
    expect(r.outcome).toBe('failed');
    expect(r.steps.map((s) => s.status)).toEqual(['ok', 'failed', 'not-run', 'not-run', 'ok']);
    expect(ran.filter((l) => l.includes('release'))).toEqual([expect.stringMatching(/^off1: zfs release /)]);
  });

  it('a step that may fail (the bookmark) is a warning of the run, not its failure', async () => {
    // OpenZFS: hold, hold, estimate, send, bookmark, release, release. Source and target are one host
    // with two recorded listings, so the plan's preconditions are left out here.
    const tank = openzfsListing('root_zfs_list_tank', 'zfsvm');
    const backup = openzfsListing('operator_zfs_list_backup', 'zfsvm');
    const plan = { ...planSync(pair('zfsvm:tank/off/products', 'zfsvm:backup/off/stalled'), tank, backup), preconditions: [] };
    const { deps } = fakeDeps(new Map(), (_h, argv) => (argv[1] === 'bookmark' ? fail('cannot create bookmark: permission denied\n') : undefined));
    const r = await executePlan(plan, deps);
    expect(r.outcome).toBe('ok');
    expect(plan.steps.map((s) => s.op)).toEqual(['hold', 'hold', 'estimate', 'send', 'bookmark', 'release', 'release']);
    expect(r.steps.map((s) => s.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'failed', 'ok', 'ok']);
    expect(r.warnings?.[0]).toMatch(/^Bookmark the sent snapshot .*: failed \(.*permission denied\); the data is sent/);
  });

  it('hosts changed since the plan: nothing runs', async () => {
    const { ran, deps } = fakeDeps(new Map([...listings, ['off1', fuseListing('insync', 'off1')]]));
    const r = await executePlan(behind(), deps);
    expect(r.outcome).toBe('changed');
    expect(r.changes?.length).toBeGreaterThan(0);
    expect(ran).toEqual([]);
  });

  it('a declined step stops the plan before it runs; cancelled before the start runs nothing', async () => {
    const dataset = `${R2}/behind/fs`;
    const older = dst.datasets.get(dataset)!.snapshots.at(-1)!.name;
    const rollback = planRollback('ovh3', dst, older);
    const declined = fakeDeps(listings);
    const r = await executePlan(rollback, declined.deps, { confirmStep: async () => false });
    expect(r.outcome).toBe('declined');
    expect(declined.ran).toEqual([]);
    const cancelled = fakeDeps(listings);
    const ac = new AbortController();
    ac.abort();
    expect((await executePlan(behind(), cancelled.deps, { signal: ac.signal })).outcome).toBe('cancelled');
    expect(cancelled.ran).toEqual([]);
  });

  it('a blocked plan is not run', async () => {
    const seed = fuseListing('seed000', 'ovh3');
    const blocked = planRollback('ovh3', seed, `${R2}/seed000/products@20230501-0000`);
    expect(blocked.blockedBy).toBeDefined();
    const { ran, deps } = fakeDeps(new Map([['ovh3', seed]]));
    const r = await executePlan(blocked, deps);
    expect(r.outcome).toBe('failed');
    expect(r.error).toMatch(/^the plan is blocked: /);
    expect(ran).toEqual([]);
  });

  it('a rename that zfs-fuse answers "dataset is busy" (a child just mounted) is run again, and succeeds', async () => {
    const { planRename } = await import('../../../src/core/ops/datasets.js');
    const fs = `${R2}/behind/fs`;
    const plan = planRename('ovh3', dst, fs, `${R2}/behind/fs2`, [], []);
    let busy = 2;
    // zfs-fuse's words in CI (run 24): "cannot rename '...': dataset is busy".
    const { ran, deps } = fakeDeps(listings, (_h, argv) => (argv[1] === 'rename' && busy-- > 0 ? fail(`cannot rename '${fs}': dataset is busy\n`) : undefined));
    const r = await executePlan(plan, deps);
    expect(r.outcome).toBe('ok');
    expect(ran.filter((l) => l.includes(' rename '))).toHaveLength(3);
  }, 20_000);
});
