/** ZFS commands as data: `{ argv, parse }`, built from a host's capabilities. Quoting happens later, in the runner. */
import { parseZfsGetTriples, parseZfsListTsv, parseZpoolList } from './parse.js';
import type { PoolInfo, ZfsCapabilities, ZfsObject } from './types.js';

export interface ZfsCommand<T> {
  argv: string[];
  parse(stdout: string): T;
}

/** A group member's role, as `zfs-fleet roles` and a failover write it (core/ops/roles.ts). */
export const ROLE_COLUMN = 'zfs-fleet:role';

/** The properties the tree and the replication planner need, in column order; optional ones only where the host has them. */
export function listingProperties(caps: ZfsCapabilities): string[] {
  const base = ['name', 'type', 'creation', 'guid', 'used', 'available', 'referenced', 'mountpoint', 'readonly', 'origin'];
  for (const p of ['createtxg', 'written', 'userrefs', 'mounted', 'encryption', 'keystatus', 'receive_resume_token'])
    if (caps.properties.includes(p)) base.push(p);
  // A user property: every ZFS has them (zfs-fuse too); unset reads `-`.
  base.push(ROLE_COLUMN);
  return base;
}

/** Everything on the host (all pools) in one command: filesystems, volumes, snapshots and (where supported) bookmarks. */
export function listAllCommand(caps: ZfsCapabilities, zfsPath: string, root?: string): ZfsCommand<ZfsObject[]> {
  const props = listingProperties(caps);
  const target = root === undefined ? [] : ['-r', root];
  if (caps.listParsable) {
    const types = ['filesystem', 'volume', 'snapshot', ...(caps.bookmarks ? ['bookmark'] : [])].join(',');
    const argv = [zfsPath, 'list', '-H', '-p', '-t', types, '-o', props.join(','), ...target];
    return { argv, parse: (out) => parseZfsListTsv(out, props, argv.join(' ')) };
  }
  // No `list -p` (zfs-fuse): `zfs get -p` prints exact numbers, one line per object and property.
  const argv = [
    zfsPath,
    'get',
    '-H',
    '-p',
    ...(root === undefined ? [] : ['-r']),
    '-o',
    'name,property,value',
    props.slice(1).join(','),
    ...(root === undefined ? [] : [root]),
  ];
  return { argv, parse: (out) => parseZfsGetTriples(out, argv.join(' ')) };
}

export function zpoolListCommand(caps: ZfsCapabilities, zpoolPath: string): ZfsCommand<PoolInfo[]> {
  const exact = caps.zpoolParsable;
  const argv = [zpoolPath, 'list', '-H', ...(exact ? ['-p'] : []), '-o', 'name,health,size,allocated,free'];
  return { argv, parse: (out) => parseZpoolList(out, exact, argv.join(' ')) };
}
