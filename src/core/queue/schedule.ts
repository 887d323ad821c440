/**
 * When a group's (or a pair's) syncs are queued: `"schedule": "every 1h"` (any duration
 * parseDuration reads) or a cron expression of 5 fields (`"15 * * * *"`, `"0 3 * * 1-5"`, read by
 * cron-parser, in the time zone the fleet file gives or UTC). Pure: the agent asks `isDue` with the
 * time the pair's newest job was queued (the jobs table) and now.
 */
import { CronExpressionParser } from 'cron-parser';
import { parseDuration } from '../monitor/duration.js';

export type Schedule = { kind: 'every'; seconds: number; text: string } | { kind: 'cron'; expr: string; tz: string; text: string };

export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleError';
  }
}

export function parseSchedule(text: string, tz = 'UTC'): Schedule {
  const t = text.trim();
  const every = /^every\s+(.+)$/i.exec(t);
  if (every) {
    let seconds: number;
    try {
      seconds = parseDuration(every[1]!);
    } catch (e) {
      throw new ScheduleError(`"${t}": ${(e as Error).message}`);
    }
    if (!(seconds >= 60)) throw new ScheduleError(`"${t}": at most once a minute (the agent looks once per sweep)`);
    return { kind: 'every', seconds, text: t };
  }
  if (t.split(/\s+/).length !== 5)
    throw new ScheduleError(`"${t}" is neither "every DURATION" (every 1h, every 30m) nor a cron expression of 5 fields ("15 * * * *")`);
  try {
    CronExpressionParser.parse(t, { tz, strict: false });
  } catch (e) {
    throw new ScheduleError(`"${t}": ${(e as Error).message}`);
  }
  return { kind: 'cron', expr: t, tz, text: t };
}

/** The newest time at or before `now` the schedule fires (cron), or undefined (every: any time is one). */
export function lastFire(s: Schedule, now: Date): Date | undefined {
  if (s.kind !== 'cron') return undefined;
  return CronExpressionParser.parse(s.expr, { tz: s.tz, currentDate: new Date(now.getTime() + 1000) })
    .prev()
    .toDate();
}

/**
 * Whether the syncs are due at `now`, the pair's newest job having been queued at `lastQueued`
 * (undefined: never): every N, when N has passed since; cron, when it fired since. A pair never
 * queued is due at once.
 */
export function isDue(s: Schedule, lastQueued: Date | undefined, now: Date): boolean {
  if (!lastQueued) return true;
  if (s.kind === 'every') return now.getTime() - lastQueued.getTime() >= s.seconds * 1000;
  return lastFire(s, now)!.getTime() > lastQueued.getTime();
}
