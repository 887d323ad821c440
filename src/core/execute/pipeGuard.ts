/**
 * A push or pull pipe runs as ONE shell command on one host (`zfs send | ssh TARGET zfs recv`, or
 * `ssh SOURCE zfs send | zfs recv`). Without a pty, sshd neither signals nor kills that command
 * when our connection drops, and nothing in the pipe writes to the connection: the pipe would run
 * on unattended and could finish the receive after the run was reported as failed. Cancelling
 * only signals the shell; its pipeline would run on the same way.
 *
 * So the executor runs the pipe inside this guard and keeps the guard's standard input open for
 * as long as it waits. When that input ends (our connection is gone: sshd closes it; or the run is
 * over) before the pipe has finished, or when the guard gets TERM/HUP/INT (a cancel), it kills
 * every process it started (the whole tree under it, read from `ps`), so the receive sees its
 * stream end early and discards it: the target stays at its previous snapshot.
 *
 * The guard is a constant script; the pipe is its one positional parameter (no value is quoted
 * here). It needs only a POSIX sh, ps (-A -o pid= -o ppid=) and awk. The preview and Send to
 * Terminal show the pipe itself: an interactive ssh session has a pty, which hangs up its
 * commands when the connection drops.
 */

import { shellScript } from '../zfs/quote.js';

const GUARD = shellScript([
  // stop CODE: kill every descendant of this shell (children of children included), then exit.
  'stop() {',
  '  trap - TERM HUP INT',
  '  kids=$(ps -A -o pid= -o ppid= 2>/dev/null | awk -v root="$$" \'' +
    '{ parent[$1] = $2 } ' +
    'END { want[root] = 1; more = 1; ' +
    'while (more) { more = 0; for (p in parent) if (!(p in want) && (parent[p] in want)) { want[p] = 1; more = 1 } }; ' +
    "for (p in want) if (p != root) print p }')",
  '  [ -n "$kids" ] && kill -TERM $kids 2>/dev/null',
  '  exit "$1"',
  '}',
  "trap 'stop 143' TERM",
  "trap 'stop 129' HUP",
  "trap 'stop 130' INT",
  // fd 3: the input we watch; the pipe itself reads nothing (an ssh in it must not eat our input).
  'exec 3<&0 </dev/null',
  'eval "$1" 3<&- &',
  'pipe=$!',
  // The watcher: our input ended while the pipe runs -> TERM to this shell -> stop.
  '{ while read -r _ <&3; do :; done; kill -TERM $$; } &',
  'watcher=$!',
  'exec 3<&-',
  'wait "$pipe"',
  'rc=$?',
  'trap - TERM HUP INT',
  'kill "$watcher" 2>/dev/null',
  'exit "$rc"',
]);

/** The name the guard runs as ($0): shows in `ps` and in the shell's own error messages. */
export const PIPE_GUARD_NAME = 'zfs-fleet-pipe';

/**
 * argv that runs `pipeline` (a shell command line) under the guard. Run it with a standard input
 * that stays open until the run is over (and is ended then): its end stops the pipe.
 */
export function guardedPipeArgv(pipeline: string): string[] {
  return ['sh', '-c', GUARD, PIPE_GUARD_NAME, pipeline];
}
