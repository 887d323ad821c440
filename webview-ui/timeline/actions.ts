/**
 * Which actions a mark offers, and the message each one sends. Pure: the menu (menu.ts) shows
 * what this returns; the extension re-checks every precondition before it plans anything.
 */
import { MarkFlag, type ActionMessage, type TimelineAction, type TimelineModel } from '../../src/shared/protocol.js';

export interface MenuAction {
  action: TimelineAction;
  label: string;
  /** Codicon name. */
  icon: string;
  /** Changes ZFS: unavailable while another action runs (busy). */
  mutating: boolean;
}

const ALL: Record<TimelineAction, MenuAction> = {
  reveal: { action: 'reveal', label: 'Reveal in Tree', icon: 'list-tree', mutating: false },
  copyName: { action: 'copyName', label: 'Copy Name', icon: 'copy', mutating: false },
  syncTo: { action: 'syncTo', label: 'Sync up to Here', icon: 'sync', mutating: true },
  rollbackTo: { action: 'rollbackTo', label: 'Roll Back to Here', icon: 'discard', mutating: true },
  rebaseClones: { action: 'rebaseClones', label: 'Rebase Clones of This Snapshot', icon: 'repo-forked', mutating: true },
};

/**
 * The actions of mark `mark` of lane `lane`:
 * - Reveal in Tree, Copy Name: always;
 * - Sync up to Here: a snapshot on the source lane of a pair, newer than the lane's common base
 *   (any snapshot of the source when there is no common base yet: a full send);
 * - Roll Back to Here: snapshots (a bookmark cannot be rolled back to);
 * - Rebase Clones of This Snapshot: a snapshot with clones.
 */
export function actionsFor(model: TimelineModel, lane: number, mark: number): MenuAction[] {
  const l = model.lanes[lane];
  const m = l?.marks[mark];
  if (!l || !m) return [];
  const out = [ALL.reveal, ALL.copyName];
  if (m.kind === 'snapshot') {
    if (model.pairId !== undefined && l.role === 'source') {
      const base = l.marks.find((x) => x.flags & MarkFlag.Base);
      const newer = !base || (m.createtxg !== undefined && base.createtxg !== undefined ? m.createtxg > base.createtxg : m.time > base.time);
      if (newer) out.push(ALL.syncTo);
    }
    out.push(ALL.rollbackTo);
    if (m.flags & MarkFlag.HasClones || (m.clones?.length ?? 0) > 0) out.push(ALL.rebaseClones);
  }
  return out;
}

/** The message asking for `action` on a mark; the extension's `actionResult` names the same requestId. */
export function actionMessage(model: TimelineModel, lane: number, mark: number, action: TimelineAction, requestId: number): ActionMessage {
  const l = model.lanes[lane]!;
  const m = l.marks[mark]!;
  return { type: 'action', requestId, action, lane: l.id, kind: m.kind, name: m.name };
}

/** The action's name as the menu shows it (Sync up to Here). */
export function actionLabel(a: TimelineAction): string {
  return ALL[a].label;
}

/** Whether an action can run now. */
export function enabled(a: MenuAction, busy: boolean): boolean {
  return !(busy && a.mutating);
}
