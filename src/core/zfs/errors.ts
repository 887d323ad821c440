import { safeLine, safeText } from '../text.js';

/**
 * `zfs`/`zpool` failures classified by their message, with the original text kept. The patterns are
 * the messages of OpenZFS 2.x and zfs-fuse 0.7 (recorded in test/fixtures).
 */

export type ZfsErrorKind =
  | 'not-found' // dataset/snapshot/pool does not exist
  | 'busy' // dataset is busy (a stalled recv, open files)
  | 'held' // a snapshot with user holds cannot be destroyed
  | 'permission' // permission denied (delegation missing, not root)
  | 'exists' // already exists
  | 'has-clones' // rollback/destroy blocked by clones
  | 'newer-snapshots' // rollback needs -r
  | 'has-dependents' // destroy blocked by children/clones
  | 'incremental-mismatch' // recv: the target's newest snapshot is not the incremental source
  | 'target-modified' // recv: destination has been modified since most recent snapshot
  | 'no-space'
  | 'stream-invalid' // recv: the stream was cut or corrupted (a dropped connection, a killed send)
  | 'zfs-unavailable' // the zfs library/daemon cannot be reached (zfs-fuse down, /dev/zfs missing)
  | 'invalid-name'
  | 'unsupported' // option, property or subcommand this ZFS does not have
  | 'command-not-found' // zfs is not on PATH
  | 'unknown';

const RULES: readonly [ZfsErrorKind, RegExp][] = [
  ['command-not-found', /(?:zfs|zpool)?: (?:command )?not found|No such file or directory.*\b(?:zfs|zpool)\b|exec: "?(?:zfs|zpool)"?: not found/i],
  // OpenZFS wraps long messages: "most recent snapshot of X does not\nmatch incremental source".
  [
    'incremental-mismatch',
    /does not\s+match\s+incremental\s+source|incremental\s+source\s+.*\s+no\s+longer\s+exists|destination\s+.*\s+(?:has|contains)\s+(?:a\s+)?snapshots?\s+newer/i,
  ],
  ['target-modified', /has\s+been\s+modified\s+since\s+most\s+recent\s+snapshot/i],
  ['held', /it's being held|is being held|has user holds/i],
  ['has-clones', /clones of previous snapshots exist|snapshot has dependent clones/i],
  ['newer-snapshots', /more recent snapshots(?: or bookmarks)? exist/i],
  ['has-dependents', /has children|filesystem has dependent|use '-r' to destroy the following datasets|has dependent clones/i],
  ['busy', /dataset is busy|pool or dataset is busy|\bis busy\b|device busy|Device or resource busy/i],
  ['zfs-unavailable', /failed to initialize ZFS library|\/dev\/zfs.*(?:No such file|not found)|The ZFS modules are not loaded/i],
  ['permission', /permission denied|Operation not permitted|must be superuser|insufficient privileges/i],
  [
    'not-found',
    /dataset does not exist|does not exist|no such pool|no such dataset|could not find any snapshots|no datasets available|cannot open '.*': (?:dataset|pool) does not exist/i,
  ],
  ['exists', /already exists|destination '[^']*' exists/i],
  ['stream-invalid', /invalid backup stream|checksum mismatch|incomplete stream|unexpected end of stream|stream is truncated/i],
  ['no-space', /out of space|no space left/i],
  [
    'invalid-name',
    /invalid character|name is too long|invalid dataset name|leading slash|trailing slash|empty component|multiple '@'|invalid snapshot name|invalid name/i,
  ],
  [
    'unsupported',
    /invalid option|invalid type '|unrecognized command|bad property list|invalid property|unknown property|unsupported|not supported|unrecognized option|pyzfs\.py not found|illegal option/i,
  ],
];

export function classifyZfsError(stderr: string, exitCode?: number | null): ZfsErrorKind {
  if (exitCode === 127) return 'command-not-found';
  for (const [kind, re] of RULES) if (re.test(stderr)) return kind;
  return 'unknown';
}

export class ZfsError extends Error {
  readonly kind: ZfsErrorKind;
  constructor(
    readonly host: string,
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    kind?: ZfsErrorKind,
  ) {
    const text = safeText(stderr.trim()) || `exit code ${exitCode ?? 'signal'}`;
    super(`${host}: \`${safeLine(argv.join(' '))}\` failed: ${firstLines(text, 3)}`);
    this.name = 'ZfsError';
    this.kind = kind ?? classifyZfsError(stderr, exitCode);
  }
}

/** Output we do not recognise: names the command and the offending line instead of crashing. */
export class ZfsParseError extends Error {
  constructor(
    readonly command: string,
    readonly lineNumber: number,
    readonly line: string,
    readonly reason: string,
  ) {
    super(
      `unrecognised output of \`${safeLine(command)}\` at line ${lineNumber}: ${safeLine(reason)}: ${JSON.stringify(line.length > 200 ? line.slice(0, 200) + '…' : line)}`,
    );
    this.name = 'ZfsParseError';
  }
}

function firstLines(text: string, n: number): string {
  const lines = text.split('\n');
  return lines.length <= n ? text : lines.slice(0, n).join('\n') + ` (+${lines.length - n} more lines)`;
}
