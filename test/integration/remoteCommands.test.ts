/**
 * How many remote commands an operation costs on a real host (each one pays the host's login shell
 * start-up), and that remote commands mean the same whatever the login shell: the lab's off1 is
 * also reached as root's twins whose login shells are fish and tcsh (test/lab/lab.sh).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Fleet } from '../../src/core/fleet/fleet.js';
import type { CachedProbe, CapabilityCache } from '../../src/core/fleet/host.js';
import type { HostListing } from '../../src/core/fleet/listing.js';
import { runBatch } from '../../src/core/zfs/batch.js';
import { shellJoin } from '../../src/core/zfs/quote.js';
import { createRunner } from '../../src/transport/index.js';
import type { Runner } from '../../src/core/runner.js';
import { deps, ssh, testLogger } from './lab.js';

/** Every command a runner sends, by host. */
class Counter {
  readonly commands = new Map<string, string[][]>();
  wrap(runner: Runner): Runner {
    return {
      label: runner.label,
      run: (argv, options) => {
        const list = this.commands.get(runner.label) ?? [];
        list.push([...argv]);
        this.commands.set(runner.label, list);
        return runner.run(argv, options);
      },
      dispose: () => runner.dispose(),
    };
  }
  count(host: string): number {
    return this.commands.get(host)?.length ?? 0;
  }
  reset(): void {
    this.commands.clear();
  }
}

class MemoryCache implements CapabilityCache {
  readonly map = new Map<string, CachedProbe>();
  get(k: string) {
    return this.map.get(k);
  }
  set(k: string, v: CachedProbe) {
    this.map.set(k, v);
  }
  delete(k: string) {
    this.map.delete(k);
  }
}

const fleets: Fleet[] = [];
function countedFleet(counter: Counter, cache?: CapabilityCache, hosts = ['off1']): Fleet {
  const f = new Fleet((spec) => counter.wrap(createRunner(spec, deps())), { zfsPath: 'zfs', zpoolPath: 'zpool', commandTimeoutMs: 60_000 }, testLogger, cache);
  f.setHosts(hosts);
  fleets.push(f);
  return f;
}
afterAll(async () => {
  for (const f of fleets) await f.dispose();
});

const names = (l: HostListing) => [...l.datasets.values()].flatMap((e) => [e.object.name, ...e.snapshots.map((s) => s.name)]).sort();

describe('remote commands per operation (zfs-fuse, the costliest host to probe)', () => {
  const cache = new MemoryCache();
  const counter = new Counter();

  it('a first listing of an unknown host: 3 remote commands (2 probe batches, 1 listing with the pools)', async () => {
    const l = await countedFleet(counter, cache).host('off1').listing();
    expect(counter.count('off1'), JSON.stringify(counter.commands.get('off1')?.map((c) => c.slice(0, 2)))).toBe(3);
    expect(l.capabilities.implementation).toBe('zfs-fuse');
    expect(names(l)).toEqual(ssh('off1', 'zfs list -H -t all -o name').split('\n').filter(Boolean).sort());
    expect(cache.map.size).toBe(1);
  });

  it('the same host again in a new process (cached probe): 1 remote command, which also checks who the host is', async () => {
    counter.reset();
    const host = countedFleet(counter, cache).host('off1');
    const l = await host.listing();
    expect(counter.count('off1')).toBe(1);
    expect(l.capabilities.implementation).toBe('zfs-fuse');
    expect(l.snapshotCount).toBeGreaterThan(0);
    // A refresh after that: 1 more (the probe is known for this connection).
    await host.refresh();
    expect(counter.count('off1')).toBe(2);
  });

  it('a cached probe from another ZFS build is not used: the host is probed again and listed again', async () => {
    const [key, probe] = [...cache.map][0]!;
    cache.map.set(key, {
      ...probe,
      identity: 'zfs-2.3.2-1\nzfs-kmod-2.3.2-1',
      capabilities: { ...probe.capabilities, implementation: 'openzfs', listParsable: true },
    });
    counter.reset();
    const l = await countedFleet(counter, cache).host('off1').listing();
    expect(l.capabilities.implementation).toBe('zfs-fuse');
    expect(counter.count('off1')).toBe(4);
    expect(cache.map.get(key)!.identity).toBe(probe.identity);
  });

  it('a subtree lists only that dataset and its descendants, in 1 command', async () => {
    counter.reset();
    const host = countedFleet(counter, cache).host('off1');
    const l = await host.subtree('zfs-hdd/off');
    expect(counter.count('off1')).toBe(1);
    const want = ssh('off1', 'zfs list -H -r -t all -o name zfs-hdd/off').split('\n').filter(Boolean).sort();
    expect(names(l)).toEqual(want);
    expect([...l.datasets.keys()].every((n) => n === 'zfs-hdd/off' || n.startsWith('zfs-hdd/off/'))).toBe(true);
  });
});

describe('remote commands do not depend on the login shell (fish, tcsh)', () => {
  const nasty = ["it's", 'my data', 'back\\slash', "a\\'b", '!bang', '%self', '$(x)', '`x`', 'a"b', '*', '~', '{a,b}', '=ls', 'é', '\x1b[31m', '-n'];

  for (const alias of ['off1-fish', 'off1-tcsh']) {
    it(`${alias}: argv arrives exactly, directly and inside sh -c`, async () => {
      const runner = createRunner(alias, deps());
      try {
        const shell = await runner.run(['sh', '-c', 'echo "$SHELL"']); // sshd sets SHELL to the login shell it ran
        expect(shell.stdout.trim()).toBe(`/usr/bin/${alias.slice('off1-'.length)}`);
        const direct = await runner.run(['printf', '%s\\0', ...nasty]);
        expect(direct.stdout.split('\0').slice(0, -1)).toEqual(nasty);
        const nested = await runner.run(['sh', '-c', shellJoin(['printf', '%s\\0', ...nasty])]);
        expect(nested.stdout.split('\0').slice(0, -1)).toEqual(nasty);
        const [a, b] = await runBatch(runner, [
          ['printf', '%s', ...nasty],
          ['sh', '-c', 'echo x >&2; exit 5'],
        ]);
        expect(a!.stdout).toBe(nasty.join(''));
        expect(b).toEqual({ exitCode: 5, stdout: '', stderr: 'x' });
      } finally {
        await runner.dispose();
      }
    });

    it(`${alias}: the probe and the listing equal the ones through bash`, async () => {
      const counter = new Counter();
      const f = countedFleet(counter, undefined, [alias, 'off1']);
      const [viaShell, viaBash] = await Promise.all([f.host(alias).listing(), f.host('off1').listing()]);
      expect(viaShell.capabilities).toEqual(viaBash.capabilities);
      expect(names(viaShell)).toEqual(names(viaBash));
      expect(viaShell.datasets.get('zfs-hdd/off/my data')?.object.guid).toBe(viaBash.datasets.get('zfs-hdd/off/my data')?.object.guid);
    });
  }
});
