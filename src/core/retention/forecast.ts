/**
 * Retention forecast: which snapshots of a dataset sanoid prunes, and when, from the dataset's policy
 * (imported from sanoid.conf or written in the fleet file) and its snapshots. Pure: no I/O.
 *
 * Followed: jimsalterjrs/sanoid at 8e1d11e (version 2.3.0), file `sanoid`:
 * - `sub getsnaps` (l. 945-955): a snapshot counts only if its name matches `^autosnap` and ends in
 *   `ly`; its type is what `.*_(\w*ly)` captures (the last `_...ly`); its age is the `creation`
 *   property, not the date in the name. Other snapshots (syncoid's, manual ones) are never pruned.
 * - `sub getsnapsbytype` (l. 813-850): the snapshots of a type sorted by creation, oldest first.
 * - `sub prune_snapshots` (l. 340-455): sections with autoprune off or process_children_only are
 *   skipped; `prune_defer` skips the section while the pool's capacity is below the limit
 *   (`check_prune_defer`, l. 1512); per type, period = frequent_period minutes (frequently), 1 h,
 *   1 d, 7 d, 31 d (monthly), 365.25 d (yearly); `maxage = time() - retention * period` (l. 376); walking
 *   oldest first, a snapshot is pruned when `ctime < maxage` AND more than `retention` snapshots of
 *   the type remain (the count drops with each one pruned). So a snapshot goes at the first run at
 *   which it is older than retention x period AND it is not among the newest `retention` of its type.
 * - `sub take_snapshots` (l. 459-): a type with retention > 0 (and autosnap) gets a new snapshot at
 *   the first run after each preferred time (hourly_min, daily_hour:daily_min, ...; defaults of
 *   sanoid.defaults.conf), named `autosnap_YYYY-MM-DD_HH:MM:SS_TYPE`.
 * - When it runs: packages/debian/sanoid.timer `OnCalendar=*:0/15` (every 15 minutes), with
 *   `Environment=TZ=UTC` in sanoid.service and sanoid-prune.service; the prune service runs after
 *   the take, so a snapshot taken in a run counts in that run's prune. (`sanoid --cron` prunes from
 *   the list read before the take: the new snapshot counts one run later; the forecast takes the
 *   earlier time, the one to warn about.) The timer fires within systemd's default AccuracySec
 *   (1 minute) of the slot, and the prune after the take: the prune of a run counts as happening
 *   up to a minute after its slot, so a daily taken at a 00:00 run is 7 days old for the prune of
 *   the 00:00 run a week later (`runWindowSeconds`).
 *
 * Not modelled: prune_defer (not in the policy: prune times are the earliest), a manual destroy,
 * a schedule other than sanoid's default times (UTC), and a pre_pruning_script that refuses.
 */
import { SNAPSHOT_PERIODS, type SnapshotPeriod } from '../fleet/import/types.js';

/** What the forecast needs of a policy (an ImportedPolicy has these fields). */
export interface RetentionPolicy {
  autoprune: boolean;
  autosnap: boolean;
  /** Snapshots kept per period. */
  retention: Record<SnapshotPeriod, number>;
  /** sanoid's process_children_only on this very dataset: sanoid neither snapshots nor prunes it. */
  processChildrenOnly?: boolean;
}

/** A snapshot as a listing gives it. */
export interface ForecastSnapshot {
  /** `pool/fs@name` or `name`. */
  name: string;
  /** Seconds since the epoch. */
  creation?: number;
  guid?: string;
  /** User holds: sanoid's `zfs destroy` fails while there is one. */
  userrefs?: number;
}

export interface SnapshotForecast {
  name: string;
  guid?: string;
  creation?: number;
  /** The sanoid type from the name; undefined: not a sanoid snapshot. */
  period?: SnapshotPeriod;
  /** Not pruned at the next run. */
  kept: boolean;
  /** Among the newest `retention` of its type now: 1 is the newest. */
  slot?: { period: SnapshotPeriod; rank: number; of: number };
  /** The sanoid run (seconds) that prunes it; undefined: never, as far as the rule goes. */
  pruneAt?: number;
  /** It has a hold: sanoid tries at `pruneAt`, and the destroy fails while the hold stays. */
  held?: boolean;
  reason: string;
}

export interface RetentionForecast {
  /** The first sanoid run at or after now. */
  nextRun: number;
  /** Every snapshot, in the order given. */
  snapshots: SnapshotForecast[];
  /** The earliest prune to come and what it destroys (held snapshots included: sanoid tries them). */
  next?: { at: number; snapshots: string[] };
}

/** sanoid's preferred snapshot times (sanoid.defaults.conf); the forecast reads them as UTC, as the Debian units run sanoid. */
export interface SanoidSchedule {
  frequentPeriodMinutes: number;
  hourlyMin: number;
  dailyHour: number;
  dailyMin: number;
  /** 0 = Sunday, as perl's localtime. */
  weeklyWday: number;
  weeklyHour: number;
  weeklyMin: number;
  monthlyMday: number;
  monthlyHour: number;
  monthlyMin: number;
  /** 1 = January. */
  yearlyMon: number;
  yearlyMday: number;
  yearlyHour: number;
  yearlyMin: number;
}

export const SANOID_DEFAULT_SCHEDULE: SanoidSchedule = {
  frequentPeriodMinutes: 15,
  hourlyMin: 0,
  dailyHour: 23,
  dailyMin: 59,
  weeklyWday: 1,
  weeklyHour: 23,
  weeklyMin: 30,
  monthlyMday: 1,
  monthlyHour: 0,
  monthlyMin: 0,
  yearlyMon: 1,
  yearlyMday: 1,
  yearlyHour: 0,
  yearlyMin: 0,
};

export interface ForecastOptions {
  /** Seconds since the epoch. */
  now: number;
  /** How often sanoid runs (systemd timer), seconds; runs fall on multiples of it. Default 900. */
  runEverySeconds?: number;
  /** How long after its slot a run's prune may read the clock (systemd's AccuracySec, default 1 minute). Default 60. */
  runWindowSeconds?: number;
  schedule?: Partial<SanoidSchedule>;
}

const HOUR = 3600;
const DAY = 24 * HOUR;

/** The period sanoid's prune multiplies the retention by (seconds). */
export function prunePeriodSeconds(period: SnapshotPeriod, frequentPeriodMinutes = 15): number {
  switch (period) {
    case 'frequently':
      return 60 * (frequentPeriodMinutes > 0 ? frequentPeriodMinutes : 15);
    case 'hourly':
      return HOUR;
    case 'daily':
      return DAY;
    case 'weekly':
      return 7 * DAY;
    case 'monthly':
      return 31 * DAY;
    case 'yearly':
      return 365.25 * DAY;
  }
}

/** The sanoid type of a snapshot name, as getsnaps reads it; undefined: sanoid ignores the snapshot. */
export function sanoidType(name: string): string | undefined {
  const short = name.includes('@') ? name.slice(name.indexOf('@') + 1) : name;
  if (!/^autosnap/.test(short) || !/ly$/.test(short)) return undefined;
  return /.*_(\w*ly)/.exec(short)?.[1];
}

const utc = (y: number, mon0: number, d: number, h: number, m: number) => Date.UTC(y, mon0, d, h, m, 0) / 1000;

/** The first preferred time of a type strictly after t (UTC). */
export function nextPreferred(period: SnapshotPeriod, t: number, s: SanoidSchedule): number {
  const d = new Date(t * 1000);
  const [y, mo, day, h] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours()];
  const firstAfter = (candidate: (k: number) => number): number => {
    for (let k = 0; ; k++) {
      const c = candidate(k);
      if (c > t) return c;
    }
  };
  switch (period) {
    case 'frequently': {
      // Slices of frequent_period minutes from the start of each hour.
      const fp = s.frequentPeriodMinutes > 0 ? s.frequentPeriodMinutes : 15;
      const slices: number[] = [];
      for (let m = 0; m < 60; m += fp) slices.push(m);
      return firstAfter((k) => utc(y, mo, day, h + Math.floor(k / slices.length), slices[k % slices.length]!));
    }
    case 'hourly':
      return firstAfter((k) => utc(y, mo, day, h + k, s.hourlyMin));
    case 'daily':
      return firstAfter((k) => utc(y, mo, day + k, s.dailyHour, s.dailyMin));
    case 'weekly': {
      const back = (d.getUTCDay() - s.weeklyWday + 7) % 7;
      return firstAfter((k) => utc(y, mo, day - back + 7 * k, s.weeklyHour, s.weeklyMin));
    }
    case 'monthly':
      return firstAfter((k) => utc(y, mo + k, s.monthlyMday, s.monthlyHour, s.monthlyMin));
    case 'yearly':
      return firstAfter((k) => utc(y + k, s.yearlyMon - 1, s.yearlyMday, s.yearlyHour, s.yearlyMin));
  }
}

/** `2026-12-04 00:00 UTC`. */
export function formatUtc(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

const ordinal = (n: number) => `${n}${n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')}`;

/**
 * For each snapshot: kept or pruned, and from when. Times are sanoid runs (multiples of
 * runEverySeconds). New snapshots are assumed at sanoid's default times when the policy has
 * autosnap; without autosnap, only the snapshots there are count.
 */
export function forecastRetention(policy: RetentionPolicy, snapshots: readonly ForecastSnapshot[], o: ForecastOptions): RetentionForecast {
  const every = o.runEverySeconds ?? 900;
  const schedule = { ...SANOID_DEFAULT_SCHEDULE, ...o.schedule };
  const runAtOrAfter = (t: number) => Math.ceil(t / every) * every;
  const window = o.runWindowSeconds ?? 60;
  /** The first run t whose prune may see `ctime < time() - retention * period`, time() being up to `window` after t. */
  const ageRun = (x: number) => Math.floor((x - window) / every) * every + every;
  const nextRun = runAtOrAfter(o.now);
  const holds = new Map(snapshots.map((s) => [s.name, s.userrefs ?? 0]));
  const out: SnapshotForecast[] = snapshots.map((s) => {
    const base = { name: s.name, ...(s.guid !== undefined ? { guid: s.guid } : {}), ...(s.creation !== undefined ? { creation: s.creation } : {}) };
    const type = sanoidType(s.name);
    if (type === undefined) return { ...base, kept: true, reason: 'not named by sanoid (autosnap_..._<period>ly): sanoid never prunes it' };
    if (!(SNAPSHOT_PERIODS as readonly string[]).includes(type))
      return { ...base, kept: true, reason: `sanoid type "${type}" is not a retention period: sanoid never prunes it` };
    return { ...base, period: type as SnapshotPeriod, kept: true, reason: '' };
  });

  for (const period of SNAPSHOT_PERIODS) {
    const mine = out.filter((f) => f.period === period);
    if (!mine.length) continue;
    const keep = policy.retention[period];
    if (policy.processChildrenOnly || !policy.autoprune) {
      for (const f of mine) f.reason = policy.autoprune ? 'process_children_only: sanoid prunes only the children' : 'autoprune is off: sanoid prunes nothing';
      continue;
    }
    const dated = mine.filter((f) => f.creation !== undefined);
    for (const f of mine) if (f.creation === undefined) f.reason = 'no creation time: sanoid cannot date it';
    // Oldest first by creation (sanoid's sort); same second: by name, for a stable answer.
    dated.sort((a, b) => a.creation! - b.creation! || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const n = dated.length;
    const P = prunePeriodSeconds(period, schedule.frequentPeriodMinutes);
    // The runs at which sanoid takes the next snapshots of this type (only while it keeps some).
    const takes: number[] = [];
    const takeRun = (k: number): number => {
      while (takes.length < k) {
        const newest = takes.length ? takes[takes.length - 1]! : dated.length ? dated[n - 1]!.creation! : -Infinity;
        const p = newest === -Infinity ? o.now : nextPreferred(period, newest, schedule);
        takes.push(Math.max(nextRun, runAtOrAfter(p)));
      }
      return takes[k - 1]!;
    };
    const more = policy.autosnap && keep > 0;
    dated.forEach((f, i) => {
      const newer = n - i; // itself and the newer ones of its type
      const ageReady = ageRun(f.creation! + keep * P);
      const need = keep - newer + 1; // snapshots sanoid must take before this one is beyond the retention
      if (newer <= keep) f.slot = { period, rank: newer, of: keep };
      const countReady = need <= 0 ? -Infinity : more ? takeRun(need) : Infinity;
      const at = Math.max(nextRun, ageReady, countReady);
      const held = (holds.get(f.name) ?? 0) > 0;
      if (held) f.held = true;
      if (at === Infinity) {
        f.reason = `kept: the ${ordinal(newer)} newest of ${n} ${period} (${period} = ${keep}), and sanoid takes no more (${policy.autosnap ? `${period} = 0` : 'autosnap is off'})`;
        return;
      }
      f.pruneAt = at;
      f.kept = at > nextRun;
      const why =
        need <= 0
          ? `beyond the newest ${keep} of ${n} ${period}`
          : `the ${ordinal(newer)} newest ${period} (${period} = ${keep}) until ${need} more ${need === 1 ? 'is' : 'are'} taken`;
      f.reason = `${f.kept ? 'kept' : 'pruned at the next run'}: ${why}; older than ${keep} x ${period} from ${formatUtc(f.creation! + keep * P)}; pruned at ${formatUtc(at)}${held ? ' (held: the destroy fails while the hold stays)' : ''}`;
    });
  }

  const times = out.flatMap((f) => (f.pruneAt !== undefined ? [f.pruneAt] : []));
  const first = times.length ? Math.min(...times) : undefined;
  return {
    nextRun,
    snapshots: out,
    ...(first !== undefined ? { next: { at: first, snapshots: out.filter((f) => f.pruneAt === first).map((f) => f.name) } } : {}),
  };
}
