/** Short human formats for descriptions and tooltips (no vscode import: shared with the CLI). */

export function formatBytes(n: number | undefined): string {
  if (n === undefined) return '-';
  const units = ['B', 'K', 'M', 'G', 'T', 'P', 'E'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v}B` : `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)}${units[i]}`;
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
