/**
 * Several read-only commands in ONE remote command. Each remote command pays the host's login
 * shell start-up (sshd runs `$SHELL -c CMD`, and rc files run even for non-interactive commands;
 * 0.5-2 s on some hosts), while a `zfs get` takes milliseconds: an operation's reads go together.
 *
 * The batch is one `sh -c SCRIPT` whose output frames each command's standard output (exact bytes),
 * exit code and standard error between lines carrying a random marker. The commands are argv and
 * are quoted with `shellJoin` inside the script, so the script means the same for every login shell.
 */
import type { Runner, RunOptions } from '../runner.js';
import { shellJoin } from './quote.js';

export interface BatchResult {
  exitCode: number;
  /** Exactly what the command wrote on standard output. */
  stdout: string;
  /** What it wrote on standard error, without trailing newlines. */
  stderr: string;
}

/** A marker no command's output contains by chance. */
export function batchMarker(): string {
  let s = 'zfs-fleet-batch-';
  for (let i = 0; i < 4; i++)
    s += Math.floor(Math.random() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return s;
}

/**
 * The argv of one command that runs every command in order (each to its end, whatever its exit code)
 * and frames their results: `STDOUT \n MARK i CODE \n STDERR \n MARK \n` per command.
 */
export function batchArgv(commands: readonly (readonly string[])[], marker: string): string[] {
  if (!/^[A-Za-z0-9-]+$/.test(marker)) throw new Error(`invalid batch marker ${marker}`);
  const parts = ['exec 3>&1', `M=${marker}`];
  commands.forEach((argv, i) => {
    // stderr goes into $e through the substitution's pipe; stdout goes straight to fd 3 (the real stdout).
    parts.push(`e=$(${shellJoin(argv)} 2>&1 >&3 3>&-); c=$?; printf '\\n%s ${i} %s\\n%s\\n%s\\n' "$M" "$c" "$e" "$M"`);
  });
  return ['sh', '-c', parts.join('; ')];
}

export class BatchOutputError extends Error {
  constructor(what: string, detail: string) {
    super(`${what}: unexpected output of the batched commands (${detail})`);
    this.name = 'BatchOutputError';
  }
}

/** Split a batch's standard output into each command's result. */
export function parseBatch(stdout: string, count: number, marker: string, what = 'batch'): BatchResult[] {
  const results: BatchResult[] = [];
  let cursor = 0;
  const end = `\n${marker}\n`;
  for (let i = 0; i < count; i++) {
    const header = `\n${marker} ${i} `;
    const h = stdout.indexOf(header, cursor);
    if (h < 0) throw new BatchOutputError(what, `command ${i + 1} of ${count} did not report`);
    const eol = stdout.indexOf('\n', h + header.length);
    const code = eol < 0 ? NaN : Number(stdout.slice(h + header.length, eol));
    if (!Number.isInteger(code)) throw new BatchOutputError(what, `command ${i + 1} of ${count} reported no exit code`);
    const e = stdout.indexOf(end, eol);
    if (e < 0) throw new BatchOutputError(what, `command ${i + 1} of ${count} ended without its marker`);
    results.push({ exitCode: code, stdout: stdout.slice(cursor, h), stderr: e > eol ? stdout.slice(eol + 1, e) : '' });
    cursor = e + end.length;
  }
  return results;
}

/**
 * Run the commands in one remote command. A batch that could not run at all (the shell failed, the
 * connection dropped) throws; each command's own failure is in its BatchResult.
 */
export async function runBatch(
  runner: Runner,
  commands: readonly (readonly string[])[],
  options: Pick<RunOptions, 'timeoutMs' | 'signal'> = {},
): Promise<BatchResult[]> {
  const marker = batchMarker();
  const res = await runner.run(batchArgv(commands, marker), options);
  try {
    return parseBatch(res.stdout, commands.length, marker, `${runner.label}: ${commands.map((c) => c.slice(0, 2).join(' ')).join('; ')}`);
  } catch (e) {
    const why = res.stderr.trim().split('\n')[0];
    throw why ? new BatchOutputError(`${runner.label}`, `exit ${res.exitCode ?? res.exitSignal}: ${why}`) : e;
  }
}
