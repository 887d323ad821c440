/**
 * What the timeline's context actions do: reveal the mark in the Hosts view, copy its name, and
 * the same application-layer flows as the commands (src/app/replication.ts): roll back to it,
 * rebase the clones of it (one after the other), and "sync up to here" (the pair's sync with
 * `upTo`). They return what happened (tests read it).
 */
import * as vscode from 'vscode';
import { rebaseFlow, rollbackFlow, syncFlow } from '../../app/replication.js';
import type { ReplicationPair } from '../../core/fleet/pairs.js';
import type { TimelineAction, TimelineLane, TimelineMark, TimelineModel } from '../../shared/protocol.js';
import type { FleetContext } from '../context.js';
import { vscodeReplicationUI } from '../replication/planFlow.js';
import { pick } from '../userInput.js';
import { findNode } from './nodes.js';

export interface ActionRequest {
  action: TimelineAction;
  model: TimelineModel;
  lane: TimelineLane;
  mark: TimelineMark;
  pairs: readonly ReplicationPair[];
}

export function fullName(lane: TimelineLane, mark: TimelineMark): string {
  return `${lane.dataset}${mark.kind === 'bookmark' ? '#' : '@'}${mark.name}`;
}

export async function runTimelineAction(ctx: FleetContext, r: ActionRequest): Promise<unknown> {
  const name = fullName(r.lane, r.mark);
  const host = r.lane.host;
  switch (r.action) {
    case 'copyName':
      await vscode.env.clipboard.writeText(name);
      return name;
    case 'reveal': {
      const node = findNode(ctx.tree.model, host, name, r.mark.kind);
      if (!node) throw new Error(`${host}: ${name} is not in the Hosts view (is ${host} in zfsFleet.hosts and listed?)`);
      await ctx.view.reveal(node, { select: true, focus: true, expand: false });
      return node.id;
    }
    case 'rollbackTo': {
      if (r.mark.kind !== 'snapshot') throw new Error(`${name} is a bookmark: a dataset can only be rolled back to a snapshot`);
      return rollbackFlow(ctx.app, vscodeReplicationUI(ctx), host, name);
    }
    case 'rebaseClones': {
      const clones = r.mark.clones ?? [];
      if (clones.length === 0) throw new Error(`${host}: no dataset is cloned from ${name}`);
      let chosen = clones;
      if (clones.length > 1) {
        const picked = await pick(
          ctx.input,
          [
            { label: `All ${clones.length} clones`, description: 'one after the other', all: true },
            ...clones.map((c) => ({ label: c, description: `clone of @${r.mark.name}`, all: false })),
          ],
          { title: `Re-base which clone of ${name}?` },
        );
        chosen = picked.all ? clones : [picked.label];
      }
      const results: unknown[] = [];
      for (const c of chosen) results.push(await rebaseFlow(ctx.app, vscodeReplicationUI(ctx), host, c));
      return results.length === 1 ? results[0] : results;
    }
    case 'syncTo': {
      if (r.mark.kind !== 'snapshot') throw new Error(`${name} is a bookmark: a sync goes up to a snapshot`);
      const pair = await pairFor(ctx, r);
      return syncFlow(ctx.app, vscodeReplicationUI(ctx), pair, { upTo: r.mark.name });
    }
  }
}

/** The pair a "sync up to here" on a lane means: one whose source is that lane (asked when several are). */
async function pairFor(ctx: FleetContext, r: ActionRequest): Promise<ReplicationPair> {
  const candidates = r.pairs.filter((p) => p.source.host === r.lane.host && p.source.name?.full === r.lane.dataset);
  // The timeline's own pair first.
  candidates.sort((a, b) => (a.id === r.model.pairId ? -1 : b.id === r.model.pairId ? 1 : 0));
  if (candidates.length === 0) throw new Error(`${r.lane.id} is not the source of a replication pair: "Sync up to here" works on a source's snapshots.`);
  if (candidates.length === 1) return candidates[0]!;
  const picked = await pick(
    ctx.input,
    candidates.map((p) => ({
      label: p.label ?? `${p.target.host}:${p.target.name!.full}`,
      description: `${p.source.host}:${p.source.name!.full} → ${p.target.host}:${p.target.name!.full}`,
      p,
    })),
    { title: `Sync @${r.mark.name} to which replica?` },
  );
  return picked.p;
}
