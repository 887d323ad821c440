/** Short human formats for descriptions and tooltips (no vscode import: shared with the CLI and the timeline webview). */

const IEC_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

/**
 * Bytes as an operator reads them, the same in the Hosts view, the CLI and the timeline webview
 * (which bundles this file): binary units, one decimal below 10, none above (`512 B`, `88 KiB`,
 * `1.5 GiB`). A value that would read 1024 goes up a unit (`1.0 MiB`, not `1024 KiB`).
 * `unknown` is what an undefined size reads as ('-' in tables and descriptions).
 */
export function formatBytes(n: number | undefined, unknown = '-'): string {
  if (n === undefined || !Number.isFinite(n)) return unknown;
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  let i = 0;
  while (i < IEC_UNITS.length - 1 && Math.round(v) >= 1024) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${sign}${Math.round(v)} B`;
  return `${sign}${v < 10 ? v.toFixed(1) : Math.round(v)} ${IEC_UNITS[i]}`;
}

export function formatTime(epochSeconds: number | undefined): string {
  if (epochSeconds === undefined) return '-';
  const d = new Date(epochSeconds * 1000);
  const p = (x: number) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function formatAge(epochSeconds: number | undefined, now = Date.now()): string {
  if (epochSeconds === undefined) return '-';
  const s = Math.max(0, Math.round(now / 1000 - epochSeconds));
  if (s < 90) return `${s}s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)}m ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}
