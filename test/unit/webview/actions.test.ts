/** The actions a mark offers and the messages they send (models from recorded real ZFS listings). */
import { describe, expect, it } from 'vitest';
import { parseFromWebview } from '../../../src/shared/protocol.js';
import { actionMessage, actionsFor, enabled } from '../../../webview-ui/timeline/actions.js';
import { openzfsPair, seed000, seed000Dataset } from './models.js';

const names = (xs: { action: string }[]) => xs.map((x) => x.action);

describe('seed 000 pair', () => {
  const m = seed000();
  it('source: the base offers no sync (already there); the unsent snapshot does', () => {
    expect(names(actionsFor(m, 0, 0))).toEqual(['reveal', 'copyName', 'rollbackTo']);
    expect(names(actionsFor(m, 0, 1))).toEqual(['reveal', 'copyName', 'syncTo', 'rollbackTo']);
  });
  it('target: no sync; the cloned snapshot offers the clone rebase', () => {
    expect(names(actionsFor(m, 1, 0))).toEqual(['reveal', 'copyName', 'rollbackTo']);
    expect(names(actionsFor(m, 1, 1))).toEqual(['reveal', 'copyName', 'rollbackTo', 'rebaseClones']);
  });
  it("the message names the request, the lane, the kind and the short name, and passes the extension's parser", () => {
    const msg = actionMessage(m, 0, 1, 'syncTo', 7);
    expect(msg).toEqual({ type: 'action', requestId: 7, action: 'syncTo', lane: m.lanes[0]!.id, kind: 'snapshot', name: '20230608-1130' });
    expect(parseFromWebview(JSON.parse(JSON.stringify(msg)))).toEqual(msg);
  });
  it('out of range: nothing', () => {
    expect(actionsFor(m, 5, 0)).toEqual([]);
    expect(actionsFor(m, 0, 99)).toEqual([]);
  });
  it('while busy, only what changes nothing', () => {
    const acts = actionsFor(m, 1, 1);
    expect(acts.filter((a) => enabled(a, true)).map((a) => a.action)).toEqual(['reveal', 'copyName']);
    expect(acts.every((a) => enabled(a, false))).toBe(true);
  });
});

describe('OpenZFS 2.3 pair and a dataset timeline', () => {
  it('a bookmark can be revealed and copied, nothing else', () => {
    const m = openzfsPair();
    const bi = m.lanes[0]!.marks.findIndex((x) => x.kind === 'bookmark');
    expect(names(actionsFor(m, 0, bi))).toEqual(['reveal', 'copyName']);
  });
  it('the source in sync: its newest snapshot is the base, so no sync up to it', () => {
    const m = openzfsPair();
    const newest = m.lanes[0]!.marks.length - 1;
    expect(names(actionsFor(m, 0, newest))).toEqual(['reveal', 'copyName', 'rollbackTo']);
  });
  it('without a pair there is nothing to sync', () => {
    const m = seed000Dataset();
    expect(m.pairId).toBeUndefined();
    expect(names(actionsFor(m, 0, 2))).toEqual(['reveal', 'copyName', 'rollbackTo']);
  });
});
