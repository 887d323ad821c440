/**
 * The progress of a push or pull: what `zfs send -v -P` printed on standard error while it streamed,
 * recorded on OpenZFS 2.3.2 (the lab VM) by test/integration-vm/record-send-progress-fixtures.sh.
 */
import { describe, expect, it } from 'vitest';
import { SendProgress, withoutSendVerbose, pipeFailureText } from '../../../src/core/replication/sendProgress.js';
import { classifyZfsError } from '../../../src/core/zfs/errors.js';
import { openzfsStderr } from './fixtures.js';

/** The per-second lines of a recording: [bytes, snapshot]. */
function progressLines(stderr: string): [number, string][] {
  return stderr
    .split('\n')
    .map((l) => /^\d\d:\d\d:\d\d\t(\d+)\t(.+)$/.exec(l))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => [Number(m[1]), m[2]!]);
}

/** Feed a recording in chunks of `size` characters (lines arrive split across chunks). */
function feedAll(text: string, size: number): { p: SendProgress; counts: number[] } {
  const p = new SendProgress();
  const counts: number[] = [];
  for (let i = 0; i < text.length; i += size) if (p.feed(text.slice(i, i + size))) counts.push(p.bytes);
  return { p, counts };
}

describe('SendProgress on recorded zfs send -v -P (a push inside the VM)', () => {
  it('a full send: the size it announced, then the bytes of each line, rising; repeated counts are no news', () => {
    const err = openzfsStderr('root_send_vP_full');
    const lines = progressLines(err);
    expect(lines.length).toBeGreaterThan(10);
    const distinct = lines.map(([b]) => b).filter((b, i, a) => i === 0 || b > a[i - 1]!);
    expect(distinct.length).toBeLessThan(lines.length); // the ssh handshake: the same count for seconds
    for (const size of [1, 7, 64, err.length]) {
      const { p, counts } = feedAll(err, size);
      expect(p.total).toBe(67271280);
      // chunks shorter than a line: one change per new count; longer ones: one per chunk at most
      if (size < 20) expect(counts).toEqual(distinct);
      else expect(counts.at(-1)).toBe(distinct.at(-1));
      expect(p.bytes).toBe(lines.at(-1)![0]);
      // the last line came before the end: a send that ended well counts its stream as announced
      expect(p.bytes).toBeLessThan(67271280);
      expect(p.completed()).toBe(67271280);
    }
  });

  it('-I over two snapshots: each stream counts from 0; a finished one counts as announced', () => {
    const err = openzfsStderr('root_send_vP_incremental_I');
    const lines = progressLines(err);
    const snaps = [...new Set(lines.map(([, s]) => s))];
    expect(snaps).toEqual(['tank/it5-prog@p2', 'tank/it5-prog@p3']);
    const lastOf = (s: string) => lines.filter(([, x]) => x === s).at(-1)![0];
    expect(lastOf('tank/it5-prog@p2')).toBeLessThan(33647216);
    const { p, counts } = feedAll(err, 13);
    for (let i = 1; i < counts.length; i++) expect(counts[i]!).toBeGreaterThan(counts[i - 1]!);
    expect(p.total).toBe(67294432);
    expect(p.bytes).toBe(33647216 + lastOf('tank/it5-prog@p3'));
    expect(p.completed()).toBe(67294432);
  });

  it('the error text keeps what went wrong and drops the verbose lines', () => {
    const refused = openzfsStderr('root_send_vP_recv_refuses');
    const text = withoutSendVerbose(refused);
    expect(text.trim()).toBe("cannot receive new filesystem stream: destination 'backup/it5-prog-x' exists\nmust specify -F to overwrite it");
    expect(classifyZfsError(text, 1)).toBe(classifyZfsError(refused, 1));
    const missing = openzfsStderr('root_send_vP_missing');
    expect(withoutSendVerbose(missing)).toBe(missing);
    expect(new SendProgress().feed(missing)).toBe(false);
  });
});

describe('pipeFailureText: why a push or pull failed', () => {
  // What a push's `zfs send -v -t TOKEN | ssh TARGET zfs recv` writes on standard error when TARGET
  // does not resolve: the send's verbose lines (recorded on OpenZFS 2.3) and ssh's line (recorded
  // from OpenSSH on the lab machine, with its CR).
  const sendVerbose = openzfsStderr('root_recv_resume');
  const sshLine = 'ssh: Could not resolve hostname no-such-host.invalid: Name or service not known\r\n';

  it("puts ssh's own error first and leaves out the send's verbose output (resume token contents, estimates)", () => {
    const text = pipeFailureText(sendVerbose + sshLine);
    expect(text.split('\n')[0]).toBe('ssh: Could not resolve hostname no-such-host.invalid: Name or service not known');
    expect(text).not.toMatch(/resume token contents|nvlist version|estimated size/);
  });

  it("a receive's refusal comes before a send's broken-pipe warning", () => {
    const text = pipeFailureText(
      `${sendVerbose}warning: cannot send 'tank/off/images@20230501-0000': signal received\n${openzfsStderr('root_err_recv_mismatch')}`,
    );
    expect(text.split('\n').slice(0, 2)).toEqual([
      'cannot receive incremental stream: most recent snapshot of backup/off/users does not',
      'match incremental source',
    ]);
  });
});
