/**
 * The everyday operations in the Hosts view and the palette: Take Snapshot… (a dataset row),
 * Destroy Snapshots… (one or several snapshot rows of a dataset; from the palette, a host, a dataset
 * and its snapshots picked), Hold Snapshot…, Release Hold…, Create Clone… (a snapshot row), Promote
 * Clone (a clone row), Set Property…, Rename Dataset… (a dataset row). All go through the same flow as the
 * CLI (src/app/operations.ts): the preview says what else changes, the modal lists what is
 * destroyed, each step re-checked before it runs; a refused plan (clones, holds, a pair's newest
 * common snapshot, a name taken) is an error message naming why.
 */
import { datasetOpFlow, destroySnapshotsFlow, snapshotFlow, type DatasetOp } from '../../app/operations.js';
import { stamp } from '../../app/replication.js';
import { pickDataset, pickHost, snapshotFrom } from './replication.js';
import { holdTagProblem } from '../../core/ops/datasets.js';
import { propertyNameProblem, propertyValueProblem } from '../../core/zfs/properties.js';
import { formatTime } from '../../core/format.js';
import { snapName } from '../../core/replication/commonBase.js';
import { PlanError } from '../../core/replication/plan.js';
import { isValidName, parentDataset, shortName, snapshotNameProblem, validateDatasetName } from '../../core/zfs/names.js';
import type { Command, FleetContext } from '../context.js';
import { vscodeInteraction } from '../replication/planFlow.js';
import { isFleetNode, selection } from '../selection.js';
import { pick, text, UserCancelled } from '../userInput.js';

/** A plan that cannot be made (a refused destroy, a name taken): said in an error message, nothing run. */
export async function orSay<T>(ctx: FleetContext, what: string, f: () => Promise<T>): Promise<T | undefined> {
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

/** The dataset of a dataset or clone row, or a host and a dataset picked. */
async function datasetFrom(ctx: FleetContext, node: unknown, verb: string): Promise<{ host: string; dataset: string }> {
  if (isFleetNode(node) && (node.kind === 'dataset' || node.kind === 'clone')) return { host: node.host, dataset: node.name };
  const host = await pickHost(ctx, `${verb} a dataset on`);
  return { host, dataset: await pickDataset(ctx, host, await ctx.fleet.host(host).listing(false), `${verb} which dataset on ${host}?`, false) };
}

function runOp(ctx: FleetContext, what: string, a: DatasetOp) {
  return orSay(ctx, what, () => datasetOpFlow(ctx.app, vscodeInteraction(ctx), a));
}

/** -r where the snapshot's dataset has descendants: asked, like Take Snapshot's. */
async function askRecursive(ctx: FleetContext, host: string, snapshot: string, title: string): Promise<boolean> {
  const dataset = snapshot.slice(0, snapshot.indexOf('@'));
  const children = (await ctx.fleet.host(host).listing(false)).datasets.get(dataset)?.children.length ?? 0;
  if (children === 0) return false;
  const choice = await pick(
    ctx.input,
    [
      { label: 'This snapshot only', recursive: false },
      { label: 'With the same-named snapshots of every descendant (-r)', recursive: true },
    ],
    { title },
  );
  return choice.recursive;
}

async function holdOrRelease(ctx: FleetContext, node: unknown, op: 'hold' | 'release') {
  const verb = op === 'hold' ? 'Hold' : 'Release a hold on';
  const { host, snapshot } = await snapshotFrom(ctx, node, verb);
  const tag = await text(ctx.input, {
    title: `${op === 'hold' ? 'Hold' : 'Release'} ${host}:${snapshot}`,
    prompt: op === 'hold' ? 'The hold tag (zfs release takes the same tag to end it)' : 'The tag of the hold to release (zfs holds lists them)',
    value: 'keep',
    validateInput: (v) => holdTagProblem(v),
  });
  const recursive = await askRecursive(ctx, host, snapshot, `${op === 'hold' ? 'Hold' : 'Release'} '${tag}': this snapshot only, or with its descendants?`);
  return runOp(ctx, op === 'hold' ? 'Cannot hold the snapshot' : 'Cannot release the hold', { op, host, snapshot, tag, recursive });
}

export const holdSnapshot: Command = (ctx, node) => holdOrRelease(ctx, node, 'hold');
export const releaseHold: Command = (ctx, node) => holdOrRelease(ctx, node, 'release');

export const createClone: Command = async (ctx, node) => {
  const { host, snapshot } = await snapshotFrom(ctx, node, 'Clone');
  const dataset = snapshot.slice(0, snapshot.indexOf('@'));
  const suggested = `${parentDataset(dataset) ?? dataset}/${shortName(dataset)}-${snapName(snapshot)}`;
  const target = await text(ctx.input, {
    title: `Create Clone of ${host}:${snapshot}`,
    prompt: 'The new dataset (in the same pool, under an existing parent)',
    value: isValidName(suggested, 'dataset') ? suggested : `${dataset}-clone`,
    validateInput: (v) => nameProblem(v),
  });
  return runOp(ctx, 'Cannot create the clone', { op: 'clone', host, snapshot, target });
};

export const promoteClone: Command = async (ctx, node) => {
  let host: string;
  let clone: string;
  if (isFleetNode(node) && node.kind === 'clone') ({ host, name: clone } = node);
  else {
    host = await pickHost(ctx, 'Promote a clone on');
    const l = await ctx.fleet.host(host).listing(false);
    const clones = [...l.datasets.values()].filter((e) => e.object.origin).map((e) => ({ label: e.object.name, description: `clone of ${e.object.origin}` }));
    if (!clones.length) throw new Error(`${host} has no clones.`);
    clone = (await pick(ctx.input, clones, { title: `Promote which clone on ${host}?` })).label;
  }
  return runOp(ctx, 'Cannot promote the clone', { op: 'promote', host, clone });
};

/** The properties offered first (any other is typed): what operators set by hand. */
const COMMON_PROPERTIES = ['readonly', 'mountpoint', 'compression', 'sharenfs', 'sharesmb', 'atime', 'canmount', 'recordsize', 'quota', 'reservation'];
const OTHER = 'Other property…';

export const setProperty: Command = async (ctx, node) => {
  const { host, dataset } = await datasetFrom(ctx, node, 'Set a property of');
  const chosen = await pick(
    ctx.input,
    [...COMMON_PROPERTIES.map((label) => ({ label })), { label: OTHER, description: 'a native or a user property (module:name)' }],
    {
      title: `Set which property of ${host}:${dataset}? (the preview lists what inherits it)`,
    },
  );
  const property =
    chosen.label === OTHER
      ? await text(ctx.input, { title: `Set a property of ${dataset}`, prompt: 'The property name', validateInput: (v) => propertyNameProblem(v) })
      : chosen.label;
  const value = await text(ctx.input, {
    title: `Set ${property} of ${host}:${dataset}`,
    prompt: `The new value of ${property}`,
    validateInput: (v) => propertyValueProblem(v),
  });
  return runOp(ctx, 'Cannot set the property', { op: 'set', host, dataset, property, value });
};

export const renameDataset: Command = async (ctx, node) => {
  const { host, dataset } = await datasetFrom(ctx, node, 'Rename');
  const to = await text(ctx.input, {
    title: `Rename ${host}:${dataset}`,
    prompt: 'The new name (in the same pool; another parent moves it there)',
    value: dataset,
    valueSelection: [dataset.lastIndexOf('/') + 1, dataset.length],
    validateInput: (v) => (v === dataset ? 'the same name' : nameProblem(v)),
  });
  return runOp(ctx, 'Cannot rename the dataset', { op: 'rename', host, from: dataset, to });
};

function nameProblem(v: string): string | undefined {
  try {
    validateDatasetName(v);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
