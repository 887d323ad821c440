/**
 * Snapshots named as sanoid names them (`autosnap_$datestamp{'sortable'}_$type`, TZ=UTC as the
 * Debian units run it), taken at the runs sanoid's default schedule takes them (daily at 23:59 ->
 * the 00:00 run, hourly at :00), with a creation one second after the run, consistent with the
 * name: data in sanoid's format (the recorded listings hold no series of sanoid snapshots).
 */
import type { RetentionPolicy } from '../../../src/core/retention/forecast.js';

export const at = (iso: string) => Date.parse(iso) / 1000;
/** A sanoid snapshot of `period` taken at the run `iso` (creation one second later, as the name says). */
export function sanoidSnap(dataset: string, iso: string, period: string, guid?: string) {
  const creation = at(iso) + 1;
  const d = new Date(creation * 1000).toISOString();
  return { name: `${dataset}@autosnap_${d.slice(0, 10)}_${d.slice(11, 19)}_${period}`, creation, ...(guid ? { guid } : {}) };
}
/** The dailies sanoid took at 00:00 on each of the days from `first`, `count` of them. */
export function dailies(dataset: string, first: string, count: number) {
  return Array.from({ length: count }, (_, i) => sanoidSnap(dataset, new Date(Date.parse(first) + i * 86400_000).toISOString(), 'daily', `${1000 + i}`));
}
export function hourlies(dataset: string, first: string, count: number) {
  return Array.from({ length: count }, (_, i) => sanoidSnap(dataset, new Date(Date.parse(first) + i * 3600_000).toISOString(), 'hourly', `${5000 + i}`));
}
export const policy = (r: Partial<RetentionPolicy['retention']>, more: Partial<RetentionPolicy> = {}): RetentionPolicy => ({
  autoprune: true,
  autosnap: true,
  retention: { frequently: 0, hourly: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0, ...r },
  ...more,
});
