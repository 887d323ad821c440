/**
 * Listings built from recorded output with the product's own parsers: the zfs-fuse scenarios of
 * fixtures/ (recorded from the lab by test/integration/replication/recordFixtures.ts) and the
 * OpenZFS 2.3 outputs of test/fixtures/openzfs-2.3 (recorded from the lab VM).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildListing, type HostListing } from '../../../src/core/fleet/listing.js';
import { parsePair, type PairOptions, type ReplicationPair, type Route } from '../../../src/core/fleet/pairs.js';
import { PlanError } from '../../../src/core/replication/plan.js';
import { openZfsCapabilities } from '../../../src/core/zfs/capabilities.js';
import { parseOpenZfsVersion, parseZfsGetTriples, parseZfsListTsv } from '../../../src/core/zfs/parse.js';
import type { ZfsCapabilities } from '../../../src/core/zfs/types.js';

const HERE = path.resolve('test/unit/replication/fixtures');
const OPENZFS = path.resolve('test/fixtures/openzfs-2.3');

export const meta = JSON.parse(fs.readFileSync(path.join(HERE, 'meta.json'), 'utf8')) as {
  recordedAt: string;
  recordedEnd: string;
  roots: Record<string, string>;
  commands: Record<string, string>;
};
/** The time the fixtures were recorded: "now" for ages. */
export const RECORDED = new Date(meta.recordedEnd);
export const R1 = meta.roots.off1!;
export const R2 = meta.roots.ovh3!;

export function fixture(name: string): string {
  return fs.readFileSync(path.join(HERE, name), 'utf8');
}

export function capabilities(host: 'off1' | 'ovh3'): ZfsCapabilities {
  return JSON.parse(fixture(`capabilities.${host}.json`)) as ZfsCapabilities;
}

/** The listing of one host for one scenario (zfs-fuse, `zfs get -H -p -r -o name,property,value ...`). */
export function fuseListing(scenario: string, host: 'off1' | 'ovh3'): HostListing {
  const file = `${scenario}.${host}.txt`;
  const objects = fs.existsSync(path.join(HERE, file)) ? parseZfsGetTriples(fixture(file), meta.commands[file]) : [];
  const l = buildListing(host, capabilities(host), [], objects);
  l.takenAt = RECORDED;
  return l;
}

export function pair(source: string, target: string, options: Partial<PairOptions> = {}, route: Route = 'relay'): ReplicationPair {
  return parsePair({ source, target, route, options });
}

/** The pair of a scenario: off1:R1/<scenario>/<name> -> ovh3:R2/<scenario>/<name>. */
export function scenarioPair(scenario: string, name = 'fs', options: Partial<PairOptions> = {}, route: Route = 'relay'): ReplicationPair {
  return pair(`off1:${R1}/${scenario}/${name}`, `ovh3:${R2}/${scenario}/${name}`, options, route);
}

function openzfsFile(name: string, ext: string): string {
  return fs.readFileSync(path.join(OPENZFS, `${name}.${ext}`), 'utf8');
}

export function openzfsCapabilities(): ZfsCapabilities {
  const text = openzfsFile('root_zfs_version', 'stdout');
  return openZfsCapabilities(parseOpenZfsVersion(text)!, text.split('\n')[0]!);
}

/** A listing from a recorded OpenZFS `zfs list -H -p -t all -r -o <columns> POOL` (columns read from the recorded command). */
export function openzfsListing(name: string, host: string): HostListing {
  const cmd = openzfsFile(name, 'cmd').trim();
  const columns = /-o (\S+)/.exec(cmd)![1]!.split(',');
  const l = buildListing(host, openzfsCapabilities(), [], parseZfsListTsv(openzfsFile(name, 'stdout'), columns, cmd));
  l.takenAt = RECORDED;
  return l;
}

export function openzfsOutput(name: string): string {
  return openzfsFile(name, 'stdout');
}

/** The standard error of an OpenZFS fixture. */
export function openzfsStderr(name: string): string {
  return openzfsFile(name, 'stderr');
}

/** The recorded command line of an OpenZFS fixture. */
export function openzfsCmd(name: string): string {
  return openzfsFile(name, 'cmd').trim();
}

/** A recorded zfs-fuse listing without the lines of some objects (an earlier state of the host: before they were created). */
export function fuseListingWithout(scenario: string, host: 'off1' | 'ovh3', drop: (name: string) => boolean): HostListing {
  const file = `${scenario}.${host}.txt`;
  const text = fixture(file)
    .split('\n')
    .filter((l) => !drop(l.slice(0, l.indexOf('\t'))))
    .join('\n');
  const l = buildListing(host, capabilities(host), [], parseZfsGetTriples(text, meta.commands[file]));
  l.takenAt = RECORDED;
  return l;
}

/** A recorded OpenZFS listing without the lines of some objects (e.g. a snapshot pruned on the source). */
export function openzfsListingWithout(name: string, host: string, drop: (name: string) => boolean): HostListing {
  const cmd = openzfsFile(name, 'cmd').trim();
  const columns = /-o (\S+)/.exec(cmd)![1]!.split(',');
  const text = openzfsFile(name, 'stdout')
    .split('\n')
    .filter((l) => !drop(l.slice(0, l.indexOf('\t'))))
    .join('\n');
  const l = buildListing(host, openzfsCapabilities(), [], parseZfsListTsv(text, columns, cmd));
  l.takenAt = RECORDED;
  return l;
}

/** The PlanError `f` throws (any other error is rethrown; none is a failure). */
export function planError(f: () => unknown): PlanError {
  try {
    f();
  } catch (e) {
    if (e instanceof PlanError) return e;
    throw e;
  }
  throw new Error('no PlanError');
}
