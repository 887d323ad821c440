/**
 * What the application layer needs from its host program, built once by each consumer (the
 * extension in activate(), the CLI per invocation): the fleet, the history, the configured pairs,
 * and how fresh listings are read (the extension's tree redraws as they arrive).
 */
import type { Fleet } from '../core/fleet/fleet.js';
import type { HostListing } from '../core/fleet/listing.js';
import type { ReplicationPair } from '../core/fleet/pairs.js';
import type { Logger } from '../core/log.js';
import type { Plan } from '../core/replication/plan.js';
import type { RunLog } from './history.js';
import type { JobAdder } from './jobs.js';

export interface App {
  fleet: Fleet;
  /** The zfs command on the hosts. */
  zfs: string;
  logger: Logger;
  /** Where runs are recorded (the fleet store by default). */
  history: RunLog;
  /** Fresh listings of the hosts (asked again), in the order given; a host that cannot be listed fails with its reason. */
  freshListings(hosts: readonly string[]): Promise<HostListing[]>;
  /** The configured pairs: a plan that destroys one's newest common snapshot says so and asks for its name. */
  configuredPairs(): Promise<ReplicationPair[]>;
  /** The fleet file's retention policy of a dataset (`policies`: its own or a recursive ancestor's); none: expire needs --keep. */
  retentionPolicy?(host: string, dataset: string): Promise<ReplicationPair['retention']>;
  /** Throws when changing ZFS is not allowed here (an untrusted VS Code workspace). */
  requireTrust(what: string): void;
  /** The ssh command line that reaches a host, for the commands recorded in the history. */
  ssh?: (host: string) => string[];
  /** The fleet store's job queue, where a plan can be queued instead of run (none: **Queue** is not offered). */
  queue?(): Promise<JobAdder>;
  /** Rewrite a fleet file (a failover's new primary): `edit` maps its text to the new one (none: the fleet file is left, and the run says so). */
  editFleetFile?(file: string, edit: (text: string) => string): Promise<void>;
  /** After a plan ran: what shows the hosts reads them again. */
  afterRun?(plan: Plan): Promise<void>;
}

/** Fresh listings straight from the fleet (the CLI, the agent). */
export function fleetListings(fleet: Fleet): App['freshListings'] {
  return (hosts) => Promise.all(hosts.map((h) => fleet.host(h).refresh()));
}
