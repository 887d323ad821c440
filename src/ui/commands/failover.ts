/**
 * Fail Over to This Replica…, Take Over… and Demote to Replica… on a group replica's row of the
 * Replication view (and from the palette, a group's replica picked). The same flow as the CLI's
 * failover, takeover and demote (src/app/failover.ts): the modal lists every step and what changes,
 * the guids are compared before the new primary is made writable, and the fleet file follows.
 */
import { roleChangeFlow, type RoleChange } from '../../app/failover.js';
import type { GroupEnd } from '../../core/ops/roles.js';
import type { ValidPair } from '../../core/fleet/pairSpecs.js';
import type { Command, FleetContext } from '../context.js';
import { isPairNode } from '../replication/pairsStore.js';
import type { GroupNode } from '../replication/pairsTree.js';
import { vscodeInteraction } from '../replication/planFlow.js';
import { pick } from '../userInput.js';
import { orSay } from './operations.js';

const end = (p: ValidPair['pair']['target']): GroupEnd => ({ host: p.host, dataset: p.name!.dataset });

const isGroupNode = (x: unknown): x is GroupNode =>
  !!x && typeof x === 'object' && (x as GroupNode).kind === 'group' && typeof (x as GroupNode).name === 'string';

/** The group and replica of a Replication view row (a replica's, or a group's: one of its replicas picked), or picked among every group's replicas. */
async function groupReplica(ctx: FleetContext, node: unknown, title: string): Promise<{ group: string; end: GroupEnd }> {
  if (isPairNode(node) && node.entry.pair.group !== undefined) return { group: node.entry.pair.group, end: end(node.entry.pair.target) };
  const inGroup = isGroupNode(node) ? node.name : undefined;
  const replicas = (await ctx.replication.pairs.pairs()).filter((p) => p.pair.group !== undefined && (inGroup === undefined || p.pair.group === inGroup));
  if (replicas.length === 0) throw new Error(`${title} moves a group's primary to one of its replicas: the fleet file (.zfs-fleet.json) has no "groups".`);
  const picked = await pick(
    ctx.input,
    replicas.map((p) => ({
      label: `${p.pair.target.host}:${p.pair.target.name!.full}`,
      description: `group ${p.pair.group}`,
      detail: `primary ${p.pair.source.host}:${p.pair.source.name!.full}`,
      p,
    })),
    { title, placeHolder: 'Which replica of which group?' },
  );
  return { group: picked.p.pair.group!, end: end(picked.p.pair.target) };
}

function roleChange(change: RoleChange, title: string, failed: string): Command {
  return async (ctx, node) => {
    const { group, end: e } = await groupReplica(ctx, node, title);
    let keepData = false;
    if (change === 'demote') {
      const choice = await pick(
        ctx.input,
        [
          { label: 'Keep its data', description: 'copied aside (DATASET-splitbrain-DATE) before the rollback', keep: true },
          { label: 'Drop its data', description: 'what it has of its own since the common snapshot is destroyed', keep: false },
        ],
        { title: `${title}: ${e.host}:${e.dataset}`, placeHolder: 'What it has of its own since the common snapshot' },
      );
      keepData = choice.keep;
    }
    return orSay(ctx, failed, () => roleChangeFlow(ctx.app, vscodeInteraction(ctx), change, group, e, keepData ? { keepData } : {}));
  };
}

export const failOver = roleChange('failover', 'Fail Over to This Replica', 'Cannot fail over');
export const takeOver = roleChange('takeover', 'Take Over', 'Cannot take over');
export const demoteReplica = roleChange('demote', 'Demote to Replica', 'Cannot demote');
