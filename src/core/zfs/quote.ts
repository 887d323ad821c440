/**
 * Quoting, in exactly one place per shell layer.
 *
 * A ZFS command is data (`argv: string[]`) until the moment it crosses a shell. Two layers exist:
 * - the remote host's login shell: sshd runs `$SHELL -c CMD`, and `$SHELL` may be sh, bash, zsh,
 *   fish or tcsh. `shellJoin` writes CMD so that every one of them splits it back into exactly argv
 *   (see `shellQuote`). A pipeline is run as `sh -c SCRIPT`; a command nested in another
 *   (`ssh A 'zfs send ... | ssh B zfs recv ...'`) is quoted with `shellJoin`, then passed as one argv
 *   element of the outer command, which `shellJoin` quotes again.
 * - the integrated terminal: text typed for a person to read and run (see terminalText.ts in the UI).
 */

/** Characters no shell above treats specially (`%` is fish's process expansion, so it is quoted). */
const SAFE = /^[A-Za-z0-9_@+=:,./-]+$/;

export class ShellQuoteError extends Error {
  constructor(word: string) {
    super(
      `cannot pass ${JSON.stringify(word.length > 80 ? word.slice(0, 80) + '…' : word)} to a remote shell: it contains a line break (csh and tcsh cannot take one inside a quoted word)`,
    );
    this.name = 'ShellQuoteError';
  }
}

/**
 * Quote one word so that sh, bash, zsh, fish and tcsh all read it back exactly. Inside single quotes
 * fish still reads `\\` and `\'`, and tcsh expands `!` (history): those three characters are written
 * outside the quotes, escaped with a backslash, which every one of these shells reads the same way.
 * A line break has no such form (tcsh refuses it inside quotes, sh drops `\`+newline): refused.
 * Words made only of safe characters (not starting with `=`, zsh's path expansion) stay bare.
 */
export function shellQuote(word: string): string {
  if (word === '') return "''";
  if (SAFE.test(word) && !word.startsWith('=')) return word;
  if (/[\n\r]/.test(word)) throw new ShellQuoteError(word);
  return "'" + word.replace(/['\\!]/g, (c) => `'\\${c}'`) + "'";
}

/** Join argv into one command line that the shells above split back into exactly argv. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/**
 * A script for `sh -c` on one line (a line break cannot be passed through every login shell):
 * statements joined with `;`, except after a line that already ends a command or opens a block.
 */
export function shellScript(lines: readonly string[]): string {
  return lines.map((l, i) => (i === lines.length - 1 || /(?:[{&;|]|\bthen|\bdo|\belse)$/.test(l.trimEnd()) ? l.trimEnd() : `${l.trimEnd()};`)).join(' ');
}

/** A pipeline of commands, each quoted, joined with `|`. */
export function shellPipeline(commands: readonly (readonly string[])[]): string {
  return commands.map(shellJoin).join(' | ');
}
