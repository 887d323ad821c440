/** Keyboard moves between marks (pure): positions are indices into a lane's time-sorted marks. */
import { nearest, type Prepared } from './prepare.js';

export interface Cursor {
  lane: number;
  /** Sorted position in the lane (PreparedLane.order maps it to the mark index). */
  pos: number;
}

export type NavKey = 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown' | 'Home' | 'End' | 'PageUp' | 'PageDown';
export const NAV_KEYS: readonly string[] = ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End', 'PageUp', 'PageDown'];

function nonEmpty(p: Prepared, from: number, step: 1 | -1): number {
  for (let l = from; l >= 0 && l < p.lanes.length; l += step) if (p.lanes[l]!.times.length > 0) return l;
  return -1;
}

/** Where a first key press lands: the mark nearest to `centre` (ms) on the first lane with marks. */
export function initialCursor(p: Prepared, centre: number): Cursor | undefined {
  const lane = nonEmpty(p, 0, 1);
  if (lane < 0) return undefined;
  return { lane, pos: nearest(p.lanes[lane]!.times, centre) };
}

/** The cursor after a key; `page` is how many marks PageUp/PageDown skip. */
export function move(p: Prepared, c: Cursor, key: NavKey, page = 10): Cursor {
  const lane = p.lanes[c.lane]!;
  const last = lane.times.length - 1;
  switch (key) {
    case 'ArrowLeft':
      return { lane: c.lane, pos: Math.max(0, c.pos - 1) };
    case 'ArrowRight':
      return { lane: c.lane, pos: Math.min(last, c.pos + 1) };
    case 'PageUp':
      return { lane: c.lane, pos: Math.max(0, c.pos - page) };
    case 'PageDown':
      return { lane: c.lane, pos: Math.min(last, c.pos + page) };
    case 'Home':
      return { lane: c.lane, pos: 0 };
    case 'End':
      return { lane: c.lane, pos: last };
    case 'ArrowUp':
    case 'ArrowDown': {
      const to = nonEmpty(p, c.lane + (key === 'ArrowUp' ? -1 : 1), key === 'ArrowUp' ? -1 : 1);
      if (to < 0) return c;
      return { lane: to, pos: nearest(p.lanes[to]!.times, lane.times[c.pos]!) };
    }
  }
}
