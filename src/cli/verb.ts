/**
 * The verb of a command line, found before the line is parsed: by `check`'s bad usage (answered as
 * a plugin: exit 3) and by the launcher (dist/cli.js), which picks V8's tier and the code cache's
 * file by it. No imports: the launcher bundles this file alone.
 */

/** The options that take a value: what follows them is not the verb. */
const VALUE_OPTIONS = new Set([
  '--to',
  '--keep',
  '-o',
  '--property',
  '--ssh-config',
  '--known-hosts',
  '--zfs',
  '--zpool',
  '--timeout',
  '--onto',
  '--snapshot',
  '--fleet',
  '--pairs',
  '--confirm-base',
  '--stalled-after',
  '--route',
  '--stale-after',
  '--group',
  '--max-snapshots',
  '--capacity-warn',
  '--capacity-crit',
  '--textfile',
  '--max-age',
  '--interval',
  '--concurrency',
  '--store',
  '--host',
  '--host-map',
  '--priority',
  '--state',
  '--parallel',
  '--workers',
  '--per-host',
  '--penalty',
  '--lease',
]);

/** The verb of a command line that did not parse (check answers its bad usage as a plugin: exit 3). */
export function verbOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (VALUE_OPTIONS.has(argv[i]!)) i++;
    else if (!argv[i]!.startsWith('-')) return argv[i];
  }
  return undefined;
}

/**
 * Whether a verb keeps V8's optimizing tier. The fleet store's SQLite is WebAssembly: V8 compiles
 * its hot functions again with TurboFan on background threads, which a short run pays for and never
 * profits from (check --from-store over 10,000 datasets: 1.5 s -> 0.7 s on 2 busy cores,
 * bench/fromStore.ts). Baseline code only, then (`--liftoff-only`); the agent and the worker run for
 * days and keep the optimizing tier.
 */
export function keepsOptimizingTier(verb: string | undefined): boolean {
  return verb === 'agent' || verb === 'worker';
}
