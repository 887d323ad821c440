/**
 * Durations as monitoring options write them: `90s`, `30m`, `7h`, `2d`, `1w`, combined (`1h30m`),
 * or a bare number of seconds. Returns seconds; throws a plain Error with the reason otherwise.
 */
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

export function parseDuration(text: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const part = /(\d+(?:\.\d+)?)([smhdw])/g;
  if (!/^(\d+(\.\d+)?[smhdw])+$/.test(t)) throw new Error(`'${text}' is not a duration (like 90s, 30m, 7h, 2d, 1w or 1h30m)`);
  let seconds = 0;
  for (const m of t.matchAll(part)) seconds += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
  return seconds;
}

/** Seconds as a short duration for people: `45s`, `12m`, `7h 5m`, `3d 4h`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) {
    const m = Math.floor((s % 3600) / 60);
    return `${Math.floor(s / 3600)}h${m ? ` ${m}m` : ''}`;
  }
  const h = Math.floor((s % 86400) / 3600);
  return `${Math.floor(s / 86400)}d${h ? ` ${h}h` : ''}`;
}
