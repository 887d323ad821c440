/**
 * Quoting, in exactly one place per shell layer.
 *
 * A ZFS command is data (`argv: string[]`) until the moment it crosses a shell. Two layers exist:
 * - POSIX sh on the remote host: `ssh host CMD` hands CMD to the login shell, so argv is joined with
 *   `shellJoin`. A pipeline run through `ssh A 'zfs send ... | ssh B zfs recv ...'` nests one layer
 *   inside another: quote the inner command with `shellJoin`, then pass that string as one argv
 *   element of the outer command, which `shellJoin` quotes again.
 * - The integrated terminal (also POSIX sh, bash or zsh on the operator's side), which uses the same rules.
 */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quote one word for a POSIX shell. Words made only of safe characters are left bare for readability. */
export function shellQuote(word: string): string {
  if (word === '') return "''";
  if (SAFE.test(word)) return word;
  return "'" + word.replace(/'/g, "'\\''") + "'";
}

/** Join argv into one POSIX shell command line that the shell splits back into exactly argv. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** A pipeline of commands, each quoted, joined with `|`. */
export function shellPipeline(commands: readonly (readonly string[])[]): string {
  return commands.map(shellJoin).join(' | ');
}
