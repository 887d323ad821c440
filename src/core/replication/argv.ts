/**
 * The zfs command lines the replication planners use, as argv (quoting happens later, once per
 * shell layer, with `shellJoin`). Which flags a host gets is decided from its probed capabilities,
 * never assumed: zfs-fuse 0.7's `zfs send` knows only `-R -D -p -i -I`, its `zfs recv` only `-v -n -F -d`.
 */
import type { PairOptions } from '../fleet/pairs.js';
import type { ZfsCapabilities } from '../zfs/types.js';

/** What a host's `zfs send` / `zfs recv` can do (derived from the capability probe). */
export interface StreamFeatures {
  /** `send -c` (compressed stream; OpenZFS 0.7+). */
  compressed: boolean;
  /** `send -L` (large blocks; OpenZFS 0.6.5+). */
  largeBlocks: boolean;
  /** `send -w` (raw, encrypted datasets as they are; OpenZFS 0.8+). */
  raw: boolean;
  /** `send -nvP` size estimates. */
  estimate: boolean;
  /** `recv -s` and `send -t` (resumable receives). */
  resume: boolean;
  /** `send -i pool/fs#bookmark`. */
  bookmarks: boolean;
  /** `zfs hold` / `zfs release`. */
  holds: boolean;
  /** `zfs send -R -X dataset,...` (leave children out of a replication stream; OpenZFS 2.2+). */
  exclude: boolean;
}

function versionAtLeast(version: string | undefined, major: number, minor: number): boolean {
  if (version === undefined) return true; // OpenZFS of unknown version: a current one
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

export function streamFeatures(caps: ZfsCapabilities): StreamFeatures {
  const openzfs = caps.implementation === 'openzfs';
  return {
    compressed: openzfs && versionAtLeast(caps.version, 0, 7),
    largeBlocks: openzfs,
    raw: openzfs && caps.properties.includes('encryption'),
    estimate: caps.sendEstimate,
    resume: caps.resumeTokens,
    bookmarks: caps.bookmarks,
    holds: caps.holds,
    exclude: openzfs && versionAtLeast(caps.version, 2, 2),
  };
}

/** The send flags a pair asks for, limited to what BOTH sides support; `dropped` says which were left out and why. */
export function effectiveSendFlags(options: PairOptions, source: ZfsCapabilities, target: ZfsCapabilities): { flags: string[]; dropped: string[] } {
  const s = streamFeatures(source);
  const t = streamFeatures(target);
  const flags: string[] = [];
  const dropped: string[] = [];
  const byReason = new Map<string, string[]>();
  const want = (on: boolean, flag: string, what: string, src: boolean, dst: boolean) => {
    if (!on) return;
    if (src && dst) return void flags.push(flag);
    const reason = !src ? `the source's zfs (${source.versionText})` : `the target's zfs (${target.versionText})`;
    byReason.set(reason, [...(byReason.get(reason) ?? []), `${flag} (${what})`]);
  };
  if (options.recursive) flags.push('-R');
  // -X (the pair's excluded children) is added by the planner, which knows them from the listing.
  // -R already carries properties; -p is for single datasets.
  else if (options.properties) flags.push('-p');
  want(options.largeBlocks, '-L', 'large blocks', s.largeBlocks, t.largeBlocks);
  want(options.compressed, '-c', 'compressed stream', s.compressed, t.compressed);
  want(options.raw, '-w', 'raw stream', s.raw, t.raw);
  for (const [reason, list] of byReason) dropped.push(`${list.join(', ')}: not supported by ${reason}`);
  return { flags, dropped };
}

export type IncrementalFlag = '-i' | '-I';

/** `zfs send [flags] [-i|-I from] snapshot`. */
export function sendArgv(zfs: string, flags: readonly string[], snapshot: string, from?: { flag: IncrementalFlag; name: string }): string[] {
  return [zfs, 'send', ...flags, ...(from ? [from.flag, from.name] : []), snapshot];
}

/** The same send as a dry run that prints its size (`-nvP`), for the preview. */
export function estimateArgv(send: readonly string[]): string[] {
  const i = send.indexOf('send');
  return [...send.slice(0, i + 1), '-n', '-v', '-P', ...send.slice(i + 1)];
}

/**
 * The send of a push or pull with `-v -P`: it prints its bytes once a second on standard error,
 * which comes back to us while the stream goes from host to host (see sendProgress.ts).
 */
export function progressSendArgv(send: readonly string[]): string[] {
  const i = send.indexOf('send');
  return [...send.slice(0, i + 1), '-v', '-P', ...send.slice(i + 1)];
}

/** `zfs send -t TOKEN` (resume an interrupted receive). */
export function resumeSendArgv(zfs: string, token: string): string[] {
  return [zfs, 'send', '-t', token];
}

/**
 * `zfs recv [-s] [-u] target`: `-s` only where the target can resume; `-u` (do not mount) when the
 * receiving user is not root: on Linux only root can mount, and without `-u` such a receive gets the
 * data, prints "cannot mount ...: failed to create mountpoint" and still exits 0. `-F` is never added here.
 */
export function recvArgv(zfs: string, target: string, caps: ZfsCapabilities, options: { unmounted?: boolean } = {}): string[] {
  return [zfs, 'recv', ...(streamFeatures(caps).resume ? ['-s'] : []), ...(options.unmounted ? ['-u'] : []), target];
}

/** `zfs recv -A target`: discard a partially received stream (the `%recv` clone, or a dataset whose first receive was cut). */
export function abortRecvArgv(zfs: string, target: string): string[] {
  return [zfs, 'recv', '-A', target];
}

/** `zfs bookmark snapshot bookmark`. */
export function bookmarkArgv(zfs: string, snapshot: string, bookmark: string): string[] {
  return [zfs, 'bookmark', snapshot, bookmark];
}

/** The bookmark a sync makes of the newest snapshot it sent (`pool/fs#zfs-fleet-<snap>`): the next incremental can start from it after the snapshot is pruned. */
export function syncBookmarkName(snapshot: string): string {
  const i = snapshot.indexOf('@');
  return `${snapshot.slice(0, i)}#zfs-fleet-${snapshot.slice(i + 1)}`;
}

/**
 * The argv that reaches HOST with OpenSSH from another machine (push and pull routes): `ssh -o
 * BatchMode=yes [-p PORT] [user@]host`. `local` cannot be reached this way (it is the operator's machine).
 */
export function sshArgvFor(host: string): string[] {
  if (host === 'local') throw new Error('the host "local" (the operator\'s machine) cannot be reached with ssh from another host; use the relay route');
  const base = ['ssh', '-o', 'BatchMode=yes'];
  // [user@][v6addr]:port
  const v6 = /^((?:[^@[\]]+@)?)\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(host);
  // `--` ends ssh's options: the destination can never be read as one.
  if (v6) return [...base, ...(v6[3] ? ['-p', v6[3]] : []), '--', `${v6[1]}${v6[2]}`];
  const m = /^(.*?)(?::(\d+))?$/.exec(host)!;
  return [...base, ...(m[2] ? ['-p', m[2]] : []), '--', m[1]!];
}

/** A hold tag unique to a pair (so two pairs sharing a source snapshot never release each other's hold). */
export function holdTagFor(pairId: string): string {
  // FNV-1a, 32 bits: short, stable, no dependency.
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(pairId, 'utf8')) {
    h ^= ch;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `zfs-fleet-sync-${h.toString(16).padStart(8, '0')}`;
}

/** The total size `zfs send -nvP` predicts (its `size<TAB>N` line), in bytes; undefined when it printed none. */
export function parseSendEstimate(stdout: string): number | undefined {
  let total: number | undefined;
  for (const line of stdout.split('\n')) {
    const m = /^size\t(\d+)$/.exec(line.trim());
    if (m) total = Number(m[1]);
  }
  return total;
}
