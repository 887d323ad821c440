/**
 * Progress of a push or pull sync, read from `zfs send -v -P` (OpenZFS). The stream goes from host
 * to host without passing through us, so its bytes cannot be counted here as the relay counts them;
 * what the send prints on its standard error comes back through our connection instead:
 *
 *   full<TAB>tank/ds@s1<TAB>1075712368            (or: incremental<TAB>FROM<TAB>TO<TAB>SIZE)
 *   size<TAB>1075712368
 *   07:41:02<TAB>12058624<TAB>tank/ds@s1          (once a second: bytes sent of THIS snapshot)
 *
 * With -I or -R a send is several streams in a row, each counted from 0 (recorded on OpenZFS 2.3.2:
 * test/fixtures/openzfs-2.3/root_send_vP_*). A stream's last line comes up to a second before its
 * end, so a finished stream counts as the larger of its last line and the size announced for it.
 */

const PROGRESS = /^\d{2}:\d{2}:\d{2}\t(\d+)\t(\S.*)$/;
const HEADER = /^(?:full\t\S.*\t\d+|incremental\t\S.*\t\S.*\t\d+|size\t\d+)$/;

export class SendProgress {
  private partial = '';
  private finished = 0;
  private current?: { snapshot: string; bytes: number };
  /** The size announced for each stream (`full NAME SIZE`, `incremental FROM NAME SIZE`). */
  private readonly announced = new Map<string, number>();
  /** The total the send announced (`size` line), if it did. */
  total?: number;

  /** Bytes sent so far (all streams of the send). */
  get bytes(): number {
    return this.finished + (this.current?.bytes ?? 0);
  }

  /** The bytes of a send that ended well: its last stream counted as finished too. */
  completed(): number {
    return this.finished + (this.current ? this.streamTotal(this.current) : 0);
  }

  private streamTotal(c: { snapshot: string; bytes: number }): number {
    return Math.max(c.bytes, this.announced.get(c.snapshot) ?? 0);
  }

  /** Feed standard error as it arrives; true when the byte count changed. */
  feed(chunk: string): boolean {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    let changed = false;
    for (const line of lines) changed = this.line(line.replace(/\r$/, '')) || changed;
    return changed;
  }

  private line(line: string): boolean {
    const size = /^size\t(\d+)$/.exec(line);
    if (size) {
      this.total = Number(size[1]);
      return false;
    }
    const head = /^(?:full\t(\S.*)|incremental\t\S.*\t(\S.*))\t(\d+)$/.exec(line);
    if (head) {
      this.announced.set((head[1] ?? head[2])!, Number(head[3]));
      return false;
    }
    const m = PROGRESS.exec(line);
    if (!m) return false;
    const bytes = Number(m[1]);
    const snapshot = m[2]!;
    if (this.current && this.current.snapshot !== snapshot) {
      this.finished += this.streamTotal(this.current);
      this.current = undefined;
    }
    if (this.current && bytes <= this.current.bytes) return false;
    this.current = { snapshot, bytes };
    return true;
  }
}

/** Standard error without the lines `zfs send -v -P` prints by design (for error messages). */
export function withoutSendVerbose(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => !PROGRESS.test(l.replace(/\r$/, '')) && !HEADER.test(l.replace(/\r$/, '')))
    .join('\n');
}

/** What `zfs send -v` prints before a stream (a resume token's contents, estimates, the progress header). */
const SEND_VERBOSE_TEXT =
  /^(?:resume token contents:|nvlist version: \d+|\t\S+ = |(?:full|incremental) send of \S.* estimated size is|total estimated size is|send from \S.* estimated size is|TIME\s+SENT\s+SNAPSHOT)/;

/** The lines that say why a pipe failed, in the order a user should read them. */
const CAUSES: readonly RegExp[] = [
  /^ssh: |Could not resolve hostname|Host key verification failed|Permission denied \(|Connection (?:refused|closed|timed out|reset)|No route to host|kex_exchange_identification|ssh_dispatch_run_fatal/,
  /^cannot receive|^cannot open|^cannot (?:mount|unmount|destroy|rollback)|^cannot restore/,
  /^cannot |^internal error|^[a-z]+: command not found|not found$/,
  /^warning: cannot send|^warning: /,
];

/**
 * Standard error of a failed push or pull (`zfs send | ssh HOST zfs recv`), both sides mixed: the
 * lines that say why first (ssh's own error, then the receive's, then the rest), the verbose output
 * of `zfs send -v` (progress, estimates, a resume token's contents) left out.
 */
export function pipeFailureText(stderr: string): string {
  const lines = withoutSendVerbose(stderr)
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '' && !SEND_VERBOSE_TEXT.test(l));
  // OpenZFS wraps a long message ("... does not\nmatch incremental source"): a line that starts in
  // lower case and with no known prefix continues the one before.
  const messages: string[] = [];
  for (const l of lines) {
    if (messages.length && /^[a-z]/.test(l) && !CAUSES.some((re) => re.test(l))) messages[messages.length - 1] += `\n${l}`;
    else messages.push(l);
  }
  const rank = (l: string) => {
    const i = CAUSES.findIndex((re) => re.test(l));
    return i < 0 ? CAUSES.length : i;
  };
  return messages
    .map((l, i) => ({ l, i, r: rank(l) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.l)
    .join('\n');
}
