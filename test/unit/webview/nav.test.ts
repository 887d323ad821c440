/** Keyboard moves between marks (model from recorded real ZFS listings). */
import { describe, expect, it } from 'vitest';
import { initialCursor, move } from '../../../webview-ui/timeline/nav.js';
import { prepare } from '../../../webview-ui/timeline/prepare.js';
import { seed000 } from './models.js';

describe('keys', () => {
  const p = prepare(seed000());
  const tgt = p.lanes[1]!;
  it('left/right within a lane, clamped; home/end', () => {
    expect(move(p, { lane: 1, pos: 0 }, 'ArrowLeft')).toEqual({ lane: 1, pos: 0 });
    expect(move(p, { lane: 1, pos: 0 }, 'ArrowRight')).toEqual({ lane: 1, pos: 1 });
    expect(move(p, { lane: 1, pos: 2 }, 'ArrowRight')).toEqual({ lane: 1, pos: 2 });
    expect(move(p, { lane: 1, pos: 1 }, 'Home')).toEqual({ lane: 1, pos: 0 });
    expect(move(p, { lane: 1, pos: 0 }, 'End')).toEqual({ lane: 1, pos: 2 });
    expect(move(p, { lane: 1, pos: 0 }, 'PageDown')).toEqual({ lane: 1, pos: 2 });
  });
  it('up/down to the nearest mark in time on the next lane; stays at the edges', () => {
    // target @20230530-2330 -> the source's nearest: the base @20230501-0000 (the lab took them seconds apart).
    const up = move(p, { lane: 1, pos: 2 }, 'ArrowUp');
    expect(up.lane).toBe(0);
    const t = tgt.times[2]!;
    const src = p.lanes[0]!;
    const best = Math.abs(src.times[0]! - t) <= Math.abs(src.times[1]! - t) ? 0 : 1;
    expect(up.pos).toBe(best);
    expect(move(p, { lane: 0, pos: 0 }, 'ArrowUp')).toEqual({ lane: 0, pos: 0 });
    expect(move(p, { lane: 0, pos: 0 }, 'ArrowDown')).toEqual({ lane: 1, pos: 0 });
    expect(move(p, { lane: 1, pos: 0 }, 'ArrowDown')).toEqual({ lane: 1, pos: 0 });
  });
  it('the first key lands on the first lane, nearest the centre of the view', () => {
    const src = p.lanes[0]!;
    expect(initialCursor(p, src.times[1]! + 1)).toEqual({ lane: 0, pos: 1 });
    expect(initialCursor(p, 0)).toEqual({ lane: 0, pos: 0 });
  });
});
