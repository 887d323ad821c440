/**
 * The one plan flow (src/app) on recorded listings, through a scripted Interaction: what is asked,
 * in which order, and that nothing runs or is recorded unless every question was answered yes.
 * The fleet is a stand-in that fails if touched: these paths must not reach a host (the runs
 * themselves are tested against the lab, through the CLI and in VS Code).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Interaction, TypedQuestion } from '../../../src/app/flow.js';
import { History } from '../../../src/app/history.js';
import { DESTROY_CLONES, rollbackFlow, type ReplicationUI } from '../../../src/app/replication.js';
import type { App } from '../../../src/app/services.js';
import type { Fleet } from '../../../src/core/fleet/fleet.js';
import type { HostListing } from '../../../src/core/fleet/listing.js';
import { R2, fuseListing } from '../replication/fixtures.js';

const CC = `${R2}/clonechain`;

function appWith(listing: HostListing, trusted = true): { app: App; history: History } {
  const history = new History(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zf-flow-')), 'history.jsonl'));
  const fleet = new Proxy(
    {},
    {
      get: () => () => {
        throw new Error('this test must not reach a host');
      },
    },
  ) as unknown as Fleet;
  const app: App = {
    fleet,
    zfs: 'zfs',
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined } as unknown as App['logger'],
    history,
    freshListings: async (hosts) => hosts.map(() => listing),
    configuredPairs: async () => [],
    requireTrust: (what) => {
      if (!trusted) throw new Error(`${what} is not available in an untrusted workspace`);
    },
  };
  return { app, history };
}

/** Answers from a script; records every question. */
function scripted(answers: { alternative?: string; confirm?: 'run' | 'cancelled'; typed?: boolean }) {
  const asked: string[] = [];
  const typed: TypedQuestion[] = [];
  const ui: Interaction = {
    nothing: () => asked.push('nothing'),
    preview: async (r) => (asked.push(`preview ${r.plan.title}`), {}),
    chooseAlternative: async (r, labels) => {
      asked.push(`alternatives ${labels.join(' | ')}`, ...(r.extraDetail ?? []));
      return answers.alternative ? { label: answers.alternative } : {};
    },
    confirm: async (r) => (asked.push(`confirm ${r.plan.title}`), { choice: answers.confirm ?? 'cancelled' }),
    confirmTyped: async (q) => (typed.push(q), answers.typed ?? false),
    confirmStep: async () => false,
    running: async () => {
      throw new Error('must not run');
    },
    outcome: async () => undefined,
  };
  const rui: ReplicationUI = {
    ...ui,
    cannotPlan: () => asked.push('cannot'),
    rebaseTarget: () => Promise.reject(new Error('not asked here')),
    diagnosis: async () => ({ reviewFix: false }),
  };
  return { ui: rui, asked, typed };
}

describe('the plan flow (src/app)', () => {
  const chain = fuseListing('clonechain', 'ovh3');

  it('a rollback blocked by a clone offers the rebase and the -R rollback, and says what -R destroys', async () => {
    const { app, history } = appWith(chain);
    const s = scripted({});
    const r = await rollbackFlow(app, s.ui, 'ovh3', `${CC}/fs@20230501-0000`);
    expect(r.choice).toBe('blocked');
    expect(s.asked).toContain(`alternatives Re-base Clone onto… | ${DESTROY_CLONES}`);
    // What the -R rollback would destroy is in the blocked prompt, before it is chosen.
    expect(s.asked).toContain(`"${DESTROY_CLONES}" destroys 7 objects:`);
    for (const o of ['c1/child (dataset)', 'c2 (clone)', 'c1 (clone)', 'c1@x', 'c1/child@x', 'fs@20230515-0000', 'fs@20230530-2330'])
      expect(s.asked).toContain(`  • ovh3: ${CC}/${o}`);
    expect((await history.read()).entries).toEqual([]);
  });

  it('the -R rollback is planned again and confirmed; every clone and dataset it destroys must be typed, and a wrong name runs nothing', async () => {
    const { app, history } = appWith(chain);
    const s = scripted({ alternative: DESTROY_CLONES, confirm: 'run', typed: false });
    const r = await rollbackFlow(app, s.ui, 'ovh3', `${CC}/fs@20230501-0000`);
    expect(r.choice).toBe('blocked');
    const next = r.next!;
    expect(next.choice).toBe('cancelled');
    expect(next.plan.destroys.clones.map((c) => c.name).sort()).toEqual([`${CC}/c1`, `${CC}/c2`]);
    // The first typed question is refused: the others are not even asked, nothing runs, nothing is recorded.
    expect(s.typed).toEqual([{ kind: 'dataset', host: 'ovh3', name: `${CC}/c1/child` }]);
    expect((await history.read()).entries).toEqual([]);
  });

  it('a cancelled confirmation asks nothing typed', async () => {
    const { app } = appWith(chain);
    const s = scripted({ alternative: DESTROY_CLONES, confirm: 'cancelled', typed: true });
    const r = await rollbackFlow(app, s.ui, 'ovh3', `${CC}/fs@20230501-0000`);
    expect(r.next?.choice).toBe('cancelled');
    expect(s.typed).toEqual([]);
  });

  it('refuses before listing anything where changing ZFS is not allowed (an untrusted workspace)', async () => {
    const { app } = appWith(chain, false);
    await expect(rollbackFlow(app, scripted({}).ui, 'ovh3', `${CC}/fs@20230501-0000`)).rejects.toThrow(/untrusted workspace/);
  });
});
