/** The CLI's argument parsing: the replication flags reach the options the planner gets. */
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../../src/cli/main.js';

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
