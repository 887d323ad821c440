/**
 * The everyday operations in the Hosts view and the palette: Take Snapshot… (a dataset row) and
 * Destroy Snapshots… (one or several snapshot rows of a dataset; from the palette, a host, a dataset
 * and its snapshots picked). Both go through the same flow as the CLI (src/app/operations.ts): the
 * modal lists what is destroyed, each step re-checked before it runs; a refused destroy (clones,
 * holds, a pair's newest common snapshot) is an error message naming why.
 */
import { destroySnapshotsFlow, snapshotFlow } from '../../app/operations.js';
import { stamp } from '../../app/replication.js';
import { pickDataset, pickHost } from './replication.js';
import { formatTime } from '../../core/format.js';
import { snapName } from '../../core/replication/commonBase.js';
import { PlanError } from '../../core/replication/plan.js';
import { snapshotNameProblem } from '../../core/zfs/names.js';
import type { Command, FleetContext } from '../context.js';
import { vscodeInteraction } from '../replication/planFlow.js';
import { isFleetNode, selection } from '../selection.js';
import { pick, text, UserCancelled } from '../userInput.js';

/** A plan that cannot be made (a refused destroy, a name taken): said in an error message, nothing run. */
async function orSay<T>(ctx: FleetContext, what: string, f: () => Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch (e) {
    if (!(e instanceof PlanError)) throw e;
    ctx.log.warn(`${what}: ${e.reason}`);
    void ctx.input.error(`${what}: ${e.reason}`);
    return undefined;
  }
}

export const takeSnapshot: Command = async (ctx, node) => {
  let host: string;
  let dataset: string;
  if (isFleetNode(node) && (node.kind === 'dataset' || node.kind === 'clone')) ({ host, name: dataset } = node);
  else {
    host = await pickHost(ctx, 'Take a snapshot on');
    dataset = await pickDataset(ctx, host, await ctx.fleet.host(host).listing(false), `Snapshot which dataset on ${host}?`, false);
  }
  const name = await text(ctx.input, {
    title: `Take Snapshot of ${host}:${dataset}`,
    prompt: 'The snapshot name (after the @)',
    value: `manual-${stamp()}`,
    validateInput: (v) => snapshotNameProblem(`${dataset}@${v}`),
  });
  const children = (await ctx.fleet.host(host).listing(false)).datasets.get(dataset)?.children.length ?? 0;
  let recursive = false;
  if (children > 0) {
    const choice = await pick(
      ctx.input,
      [
        { label: 'This dataset only', recursive: false },
        { label: 'With every descendant (-r)', description: `${children} child dataset(s) and theirs`, recursive: true },
      ],
      { title: `Snapshot @${name}: ${dataset} only, or with its descendants?` },
    );
    recursive = choice.recursive;
  }
  return orSay(ctx, 'Cannot take the snapshot', () => snapshotFlow(ctx.app, vscodeInteraction(ctx), host, `${dataset}@${name}`, recursive));
};

export const destroySnapshots: Command = async (ctx, node, nodes) => {
  const picked = selection(node, nodes).filter((n) => isFleetNode(n) && n.kind === 'snapshot');
  let host: string;
  let dataset: string;
  let names: string[];
  if (picked.length) {
    host = picked[0]!.host;
    dataset = (picked[0] as { name: string }).name.split('@')[0]!;
    const others = picked.filter((n) => n.host !== host || (n as { name: string }).name.split('@')[0] !== dataset);
    if (others.length) throw new Error(`Destroy Snapshots takes the snapshots of one dataset at a time (${host}:${dataset} and others were selected).`);
    names = picked.map((n) => snapName((n as { name: string }).name));
  } else {
    host = await pickHost(ctx, 'Destroy snapshots on');
    const l = await ctx.fleet.host(host).listing(false);
    dataset = await pickDataset(ctx, host, l, `Destroy snapshots of which dataset on ${host}?`, true);
    // The picked labels are mapped back by position: a snapshot's name may itself hold spaces.
    const snaps = l.datasets.get(dataset)!.snapshots;
    const items = snaps.map((s) => `@${snapName(s.name)}  ${formatTime(s.creation)}`);
    const chosen = await ctx.input.pickMany(items, { title: `Destroy which snapshots of ${dataset}? (the next step lists everything first)` });
    if (!chosen?.length) throw new UserCancelled();
    names = chosen.map((c) => snapName(snaps[items.indexOf(c)]!.name));
  }
  return orSay(ctx, 'Cannot destroy the snapshots', () => destroySnapshotsFlow(ctx.app, vscodeInteraction(ctx), host, dataset, names.join(',')));
};
