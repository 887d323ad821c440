// The queue's pure rules: states of the `sync` column, how a flow's end becomes a job's state, specs
// read back from the store, and the size of a job from listings recorded on the lab (zfs-fuse).
import { describe, expect, it } from 'vitest';
import { EXIT, jobOutcome, orderKey, parseJobSpec, stateOf, syncSizeBytes } from '../../../src/core/queue/job.js';
import { pairState } from '../../../src/core/replication/state.js';
import { fuseListing, scenarioPair } from '../replication/fixtures.js';

describe('job states', () => {
  it('reads the syncrestore codes', () => {
    expect([-1, -2, 0, 1, 3, 130, -10].map(stateOf)).toEqual(['available', 'running', 'success', 'failed', 'failed', 'cancelled', 'paused']);
  });

  it('turns the end of a flow into a code and a reason', () => {
    expect(jobOutcome({ outcome: 'ok' })).toEqual({ sync: 0, error: null });
    expect(jobOutcome({ outcome: 'nothing' })).toEqual({ sync: 0, error: null });
    expect(jobOutcome({ outcome: 'failed', error: 'cannot receive' })).toEqual({ sync: EXIT.failed, error: 'cannot receive' });
    expect(jobOutcome({ outcome: 'cancelled' })).toEqual({ sync: 130, error: 'cancelled' });
    expect(jobOutcome({ refused: 'the plan destroys 1 object(s)', outcome: 'cancelled' })).toEqual({ sync: 3, error: 'the plan destroys 1 object(s)' });
    expect(jobOutcome({ cannotPlan: 'no common snapshot' })).toEqual({ sync: 2, error: 'no common snapshot' });
  });

  it('reads a spec back from the store, refusing what it does not know', () => {
    expect(parseJobSpec('{"kind":"sync","source":"a:p/x","target":"b:p/x","route":"push"}')).toEqual({
      kind: 'sync',
      source: 'a:p/x',
      target: 'b:p/x',
      route: 'push',
    });
    expect(() => parseJobSpec({ kind: 'rm -rf' })).toThrow('unknown job kind "rm -rf"');
    expect(() => parseJobSpec({ kind: 'sync', source: 'a:p/x' })).toThrow('a sync job needs source and target');
    expect(() => parseJobSpec({ kind: 'sync', source: 'a:p/x', target: 'b:p/x', route: 'ftp' })).toThrow('unknown route "ftp"');
  });

  it('orders by blocks + files x penalty', () => {
    expect(orderKey({ blocks: 1000, files: 1000 })).toBe(33_000);
    expect(orderKey({ blocks: 1000, files: 1000 }, 3000)).toBe(3_001_000);
    expect(orderKey({ blocks: 1000, files: 1000 }, 0)).toBe(1000);
    expect(orderKey({ blocks: null, files: null })).toBe(0);
  });
});

describe('the size of a sync job, from recorded listings', () => {
  it('a first send: the newest snapshot referenced bytes', () => {
    const p = scenarioPair('neversent');
    const [src, dst] = [fuseListing('neversent', 'off1'), fuseListing('neversent', 'ovh3')];
    const ds = src.datasets.get(p.source.name!.full)!;
    expect(syncSizeBytes(pairState(p, src, dst), ds)).toBe(ds.snapshots[0]!.referenced);
    expect(ds.snapshots[0]!.referenced).toBeGreaterThan(0);
  });

  it('an incremental on a host without `written` (zfs-fuse): the dataset used bytes, an upper bound', () => {
    const p = scenarioPair('behind');
    const [src, dst] = [fuseListing('behind', 'off1'), fuseListing('behind', 'ovh3')];
    const st = pairState(p, src, dst);
    const ds = src.datasets.get(p.source.name!.full)!;
    expect(st.behind!.count).toBeGreaterThan(0);
    expect(ds.snapshots.some((s) => s.written !== undefined)).toBe(false);
    expect(syncSizeBytes(st, ds)).toBe(ds.object.used);
  });

  it('unknown when the source dataset is not listed', () => {
    expect(syncSizeBytes({}, undefined)).toBeUndefined();
  });
});
