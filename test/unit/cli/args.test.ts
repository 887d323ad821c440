/** The CLI's argument parsing: the replication flags reach the options the planner gets. */
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError, VERBS } from '../../../src/cli/main.js';
import { verbOf } from '../../../src/cli/verb.js';

describe('zfs-fleet arguments', () => {
  it('sync: --route, --snapshot, --no-bookmark, --yes', () => {
    const { command, opts } = parseArgs(['sync', 'off1:tank/a', 'ovh3:rpool/a', '--route', 'pull', '--snapshot', 'now', '--no-bookmark', '--yes']);
    expect(command).toBe('sync');
    expect(opts.positional).toEqual(['off1:tank/a', 'ovh3:rpool/a']);
    expect(opts.route).toBe('pull');
    expect(opts.snapshot).toBe('now');
    expect(opts.bookmark).toBe(false);
    expect(opts.yes).toBe(true);
  });

  it('without --no-bookmark the planner decides (bookmark where the source can)', () => {
    expect(parseArgs(['sync', 'a:b', 'c:d']).opts.bookmark).toBeUndefined();
  });

  it('bad values are usage errors naming the flag', () => {
    expect(() => parseArgs(['sync', 'a:b', 'c:d', '--route', 'sideways'])).toThrow(new UsageError('--route is relay, push or pull'));
    expect(() => parseArgs(['sync', 'a:b', 'c:d', '--bookmark'])).toThrow(new UsageError('unknown option --bookmark'));
  });
});

describe('options per verb', () => {
  it('a verb refuses an option it does not take, naming it and its own options', () => {
    expect(() => parseArgs(['ls', 'off1', '--destroy-clones'])).toThrow(
      /^ls does not take --destroy-clones\nusage: zfs-fleet ls HOST\[:DATASET\] \[--snapshots\]\n {2}its options: --snapshots -t$/,
    );
    expect(() => parseArgs(['status', 'a:b', 'c:d', '--yes'])).toThrow(/status does not take --yes/);
    expect(() => parseArgs(['history', '--fix'])).toThrow(/history does not take --fix/);
    expect(parseArgs(['rollback', 'h:p/a@s', '--destroy-clones', '--yes', '--confirm-base', 'p/a', '--json']).command).toBe('rollback');
  });

  it("VERB --help asks for that verb's usage", () => {
    expect(parseArgs(['ls', '--help'])).toMatchObject({ command: 'help', opts: { positional: ['ls'] } });
    expect(parseArgs(['--help', 'sync'])).toMatchObject({ command: 'help', opts: { positional: ['sync'] } });
  });

  it('every verb of the usage text has its options listed', () => {
    for (const v of ['hosts', 'ls', 'status', 'diagnose', 'plan', 'sync', 'rollback', 'rebase', 'audit', 'history']) expect(VERBS[v], v).toBeDefined();
  });
});

describe('the verb of a command line that does not parse', () => {
  it('skips the values of options (check answers its bad usage with UNKNOWN, exit 3)', () => {
    expect(verbOf(['--pairs', 'check', 'metrics', '--bogus'])).toBe('metrics');
    expect(verbOf(['--timeout', '5', 'check', '--stale-after', 'soon'])).toBe('check');
    expect(verbOf(['-v'])).toBeUndefined();
    expect(() => parseArgs(['check', '--stale-after', 'soon'])).toThrow(/--stale-after: 'soon' is not a duration/);
    expect(() => parseArgs(['check', '--capacity-warn', '95'])).toThrow(/--capacity-warn must not be over --capacity-crit/);
    expect(parseArgs(['check', 'off1', '--stale-after', '2d', '--max-snapshots', '500']).opts.thresholds).toEqual({
      staleAfterSeconds: 172800,
      maxSnapshots: 500,
      capacityWarn: 80,
      capacityCrit: 90,
    });
  });
});

describe('agent and --from-store', () => {
  it('agent: --interval and --concurrency, --once; defaults 60 s and 32', () => {
    const { command, opts } = parseArgs(['agent', 'off1', 'ovh3', '--interval', '5m', '--concurrency', '4', '--once', '--store', '/x/fleet.db']);
    expect(command).toBe('agent');
    expect(opts).toMatchObject({ positional: ['off1', 'ovh3'], intervalSeconds: 300, concurrency: 4, once: true, store: '/x/fleet.db' });
    expect(parseArgs(['agent']).opts).toMatchObject({ intervalSeconds: 60, concurrency: 32, once: false });
    expect(() => parseArgs(['agent', '--concurrency', '0'])).toThrow(/--concurrency takes a whole number/);
    expect(() => parseArgs(['agent', '--interval', 'soon'])).toThrow(/--interval: /);
    expect(() => parseArgs(['agent', '--stale-after', '1h'])).toThrow(/agent does not take --stale-after/);
  });

  it('check and metrics --from-store [--max-age]; --max-age alone is a usage error; the verb is found behind --store URL', () => {
    expect(parseArgs(['check', '--from-store', '--max-age', '10m']).opts).toMatchObject({ fromStore: true, maxAgeSeconds: 600 });
    expect(parseArgs(['metrics', '--from-store']).opts).toMatchObject({ fromStore: true });
    expect(() => parseArgs(['check', '--max-age', '10m'])).toThrow(new UsageError('--max-age is for --from-store'));
    expect(() => parseArgs(['ls', 'off1', '--from-store'])).toThrow(/ls does not take --from-store/);
    expect(verbOf(['--store', 'check.db', 'check', '--from-store'])).toBe('check');
  });
});
