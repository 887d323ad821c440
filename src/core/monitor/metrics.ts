/**
 * `zfs-fleet metrics`: the fleet's facts in the Prometheus text exposition format (version 0.0.4,
 * as node_exporter's textfile collector reads it): per metric one `# HELP` and one `# TYPE` line,
 * then its samples `name{label="value",...} number`. Label values escape `\`, `"` and line feed
 * (`\\`, `\"`, `\n`); HELP text escapes `\` and line feed. Every metric is a gauge.
 */
import type { FleetFacts, PairFacts } from './facts.js';

/** `\`, `"` and line feed as the format escapes them; any other control byte (a host name from the command line could hold one) as the text `\xNN`, backslash escaped. */
export function escapeLabelValue(v: string): string {
  return (
    v
      .replace(/\\/g, '\\\\')
      .replace(/"/g, '\\"')
      .replace(/\n/g, '\\n')
      // eslint-disable-next-line no-control-regex
      .replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
  );
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

type Labels = Record<string, string>;

interface Sample {
  labels: Labels;
  value: number;
}

interface Family {
  name: string;
  help: string;
  samples: Sample[];
}

/** A number as the format writes it: Go's ParseFloat forms, with NaN and the infinities spelled as Prometheus does. */
function value(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

function sampleLine(name: string, s: Sample): string {
  const labels = Object.entries(s.labels)
    .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
    .join(',');
  return `${name}${labels ? `{${labels}}` : ''} ${value(s.value)}`;
}

function pairLabels(p: PairFacts): Labels {
  return {
    pair: p.pair.id,
    source_host: p.pair.source.host,
    source: p.pair.source.name!.full,
    target_host: p.pair.target.host,
    target: p.pair.target.name!.full,
  };
}

export function metricFamilies(f: FleetFacts): Family[] {
  const fam = (name: string, help: string, samples: Sample[]): Family => ({ name: `zfs_fleet_${name}`, help, samples });
  const up = f.hosts.filter((h) => h.up);
  const readable = f.pairs.filter((p) => p.state);
  return [
    fam(
      'host_up',
      'Whether the host answered its listing (1) or not (0).',
      f.hosts.map((h) => ({ labels: { host: h.host }, value: h.up ? 1 : 0 })),
    ),
    fam(
      'host_listing_seconds',
      'How long the host took to list its datasets, snapshots and pools.',
      up.map((h) => ({ labels: { host: h.host }, value: h.listingSeconds ?? 0 })),
    ),
    fam(
      'pool_healthy',
      'Whether the pool is ONLINE (1) or not (0: DEGRADED, FAULTED, ...).',
      f.pools.map((p) => ({ labels: { host: p.host, pool: p.pool, health: p.health }, value: p.health === 'ONLINE' ? 1 : 0 })),
    ),
    fam(
      'pool_capacity_ratio',
      'Allocated bytes of the pool over its size (0 to 1).',
      f.pools.flatMap((p) => (p.capacityRatio !== undefined ? [{ labels: { host: p.host, pool: p.pool }, value: p.capacityRatio }] : [])),
    ),
    fam(
      'pool_data_errors',
      'Data errors zpool status reports for the pool (files damaged beyond repair; pools whose status was read).',
      f.pools.flatMap((p) => (p.dataErrors !== undefined ? [{ labels: { host: p.host, pool: p.pool }, value: p.dataErrors }] : [])),
    ),
    fam(
      'pool_last_scrub_timestamp_seconds',
      'When the last scrub of the pool finished, seconds since the epoch (pools scrubbed at least once).',
      f.pools.flatMap((p) =>
        p.scan?.kind === 'scrub' && p.scan.state === 'finished' && p.scan.at !== undefined
          ? [{ labels: { host: p.host, pool: p.pool }, value: p.scan.at }]
          : [],
      ),
    ),
    fam(
      'pool_last_scrub_errors',
      'Errors the last finished scrub of the pool could not repair.',
      f.pools.flatMap((p) =>
        p.scan?.kind === 'scrub' && p.scan.state === 'finished' ? [{ labels: { host: p.host, pool: p.pool }, value: p.scan.errors ?? 0 }] : [],
      ),
    ),
    fam(
      'dataset_snapshots',
      'Number of snapshots of the dataset itself (not of its children).',
      f.datasets.map((d) => ({ labels: { host: d.host, dataset: d.dataset }, value: d.snapshots })),
    ),
    fam(
      'dataset_newest_snapshot_timestamp_seconds',
      'Creation time of the dataset newest snapshot, seconds since the epoch (datasets with snapshots only).',
      f.datasets.flatMap((d) => (d.newestCreation !== undefined ? [{ labels: { host: d.host, dataset: d.dataset }, value: d.newestCreation }] : [])),
    ),
    fam(
      'dataset_newest_snapshot_age_seconds',
      'Age of the dataset newest snapshot when the metrics were written (datasets with snapshots only).',
      f.datasets.flatMap((d) =>
        d.newestAgeSeconds !== undefined ? [{ labels: { host: d.host, dataset: d.dataset }, value: Math.round(d.newestAgeSeconds) }] : [],
      ),
    ),
    fam(
      'pair_readable',
      'Whether both hosts of the pair were listed, so its state is known (1) or not (0).',
      f.pairs.map((p) => ({ labels: pairLabels(p), value: p.state ? 1 : 0 })),
    ),
    fam(
      'pair_common_base',
      'Whether the pair has a common snapshot or bookmark to send incrementally from (1) or not (0: diverged or never sent).',
      readable.map((p) => ({ labels: pairLabels(p), value: p.state!.base ? 1 : 0 })),
    ),
    fam(
      'pair_lag_seconds',
      'How long the oldest snapshot the target lacks has waited; 0 in sync (pairs with a common base only).',
      readable.flatMap((p) => (p.lagSeconds !== undefined ? [{ labels: pairLabels(p), value: Math.round(p.lagSeconds) }] : [])),
    ),
    fam(
      'pair_snapshots_behind',
      'Snapshots of the source newer than the common base (not yet on the target).',
      readable.map((p) => ({ labels: pairLabels(p), value: p.behind })),
    ),
    fam(
      'pair_base_at_risk',
      'Whether the common base is about to be pruned on the source (1) or not (0): the retention forecast prunes it within a day, or, without a policy, it is the source oldest snapshot (estimate).',
      readable.map((p) => ({ labels: pairLabels(p), value: p.baseAtRisk ? 1 : 0 })),
    ),
    fam(
      'pair_base_pruned_in_seconds',
      'Seconds until the retention forecast prunes the common base on the source (pairs whose source has a policy, and no bookmark or hold keeping the base).',
      readable.flatMap((p) => (p.basePruneAt !== undefined ? [{ labels: pairLabels(p), value: Math.max(0, Math.round(p.basePruneAt - f.now / 1000)) }] : [])),
    ),
    fam(
      'pair_last_success_timestamp_seconds',
      'When the pair last ran to the end without error (zfs-fleet history), seconds since the epoch.',
      f.pairs.flatMap((p) => {
        const t = p.lastSuccess ? Date.parse(p.lastSuccess.finishedAt) / 1000 : NaN;
        return Number.isFinite(t) ? [{ labels: pairLabels(p), value: t }] : [];
      }),
    ),
    fam(
      'pair_last_run_failed',
      'Whether the pair last run in the history failed (1) or not (0; pairs with a recorded run only).',
      f.pairs.flatMap((p) => (p.lastRun ? [{ labels: pairLabels(p), value: p.lastRun.outcome === 'failed' || p.lastRun.outcome === 'changed' ? 1 : 0 }] : [])),
    ),
  ];
}

/** The exposition text, ending with a line feed (the format requires it of the last line). */
export function prometheusText(f: FleetFacts): string {
  const lines: string[] = [];
  for (const m of metricFamilies(f)) {
    lines.push(`# HELP ${m.name} ${escapeHelp(m.help)}`, `# TYPE ${m.name} gauge`);
    for (const s of m.samples) lines.push(sampleLine(m.name, s));
  }
  return lines.join('\n') + '\n';
}
