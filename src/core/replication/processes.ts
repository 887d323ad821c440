/**
 * Processes as data: `ps` (which `zfs send` / `zfs recv` run, and for how long), who has files
 * open under a mountpoint (`fuser -m`, else `lsof`), and the one command that stops a process
 * only if it is still the same one. Commands are argv; scripts are constants and every value is
 * passed as a positional parameter, so no value is ever quoted by hand.
 */
import type { ZfsCommand } from '../zfs/commands.js';
import { ZfsParseError } from '../zfs/errors.js';
import { shellScript } from '../zfs/quote.js';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Seconds since the process started. */
  elapsedSeconds: number;
  user?: string;
  /** The command line as ps prints it (arguments joined with spaces). */
  args: string;
}

/** `ps -ww -eo pid=,ppid=,etimes=,args=`: every process, full command lines, no header. */
export function processListCommand(): ZfsCommand<ProcessInfo[]> {
  const argv = ['ps', '-ww', '-eo', 'pid=,ppid=,etimes=,args='];
  return { argv, parse: (out) => parseProcessList(out, false, argv.join(' ')) };
}

/** Lines `PID PPID ETIMES [USER] ARGS...` (leading blanks, columns separated by blanks). */
export function parseProcessList(stdout: string, withUser = false, command = 'ps'): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  const re = withUser ? /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s(.*)$/ : /^\s*(\d+)\s+(\d+)\s+(\d+)\s(.*)$/;
  stdout.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const m = re.exec(line);
    if (!m) throw new ZfsParseError(command, i + 1, line, withUser ? 'expected PID PPID ETIMES USER ARGS' : 'expected PID PPID ETIMES ARGS');
    const p: ProcessInfo = { pid: Number(m[1]), ppid: Number(m[2]), elapsedSeconds: Number(m[3]), args: (withUser ? m[5]! : m[4]!).trimStart() };
    if (withUser) p.user = m[4]!;
    out.push(p);
  });
  return out;
}

export type ZfsStreamVerb = 'send' | 'recv';

export interface ZfsStreamProcess extends ProcessInfo {
  verb: ZfsStreamVerb;
  /** The dataset of the pair this process touches. */
  dataset: string;
}

const WRAPPERS = new Set(['sudo', 'doas', 'nice', 'ionice', 'nohup', 'env']);

/** `zfs send` / `zfs recv` processes whose command line names one of `datasets` (as the dataset, or a snapshot/bookmark of it). */
export function findZfsStreamProcesses(
  processes: readonly ProcessInfo[],
  datasets: readonly string[],
  verbs: readonly ZfsStreamVerb[] = ['send', 'recv'],
): ZfsStreamProcess[] {
  const out: ZfsStreamProcess[] = [];
  for (const p of processes) {
    const words = p.args.split(' ');
    let i = 0;
    while (i < words.length && WRAPPERS.has(words[i]!.replace(/^.*\//, ''))) i++;
    if (words[i]?.replace(/^.*\//, '') !== 'zfs') continue;
    const sub = words[i + 1];
    const verb: ZfsStreamVerb | undefined = sub === 'send' ? 'send' : sub === 'recv' || sub === 'receive' ? 'recv' : undefined;
    if (!verb || !verbs.includes(verb)) continue;
    // Names may hold spaces, so match on the joined text: " <dataset>" followed by the end, a blank, '@' or '#'.
    const rest = ' ' + words.slice(i + 2).join(' ');
    const dataset = datasets.find((d) => {
      let from = 0;
      for (;;) {
        const k = rest.indexOf(' ' + d, from);
        if (k < 0) return false;
        const next = rest[k + 1 + d.length];
        if (next === undefined || next === ' ' || next === '@' || next === '#') return true;
        from = k + 1;
      }
    });
    if (dataset !== undefined) out.push({ ...p, verb, dataset });
  }
  return out;
}

/**
 * Stop process PID only if its command line is still ARGS: TERM, then wait up to 10 s for it to
 * exit. Exit 0 also when it has already exited; 3 when the pid now belongs to another command; 4
 * when it is still running after 10 s.
 */
export function killArgv(pid: number, args: string): string[] {
  const script = shellScript([
    'a=$(ps -ww -o args= -p "$1") || { echo "process $1 has already exited"; exit 0; }',
    '[ "$a" = "$2" ] || { echo "process $1 is now: $a (not killed)" >&2; exit 3; }',
    'kill -TERM "$1" || exit 1',
    'i=0; while kill -0 "$1" 2>/dev/null; do i=$((i+1)); [ "$i" -gt 20 ] && { echo "process $1 still runs 10 s after TERM" >&2; exit 4; }; sleep 0.5; done',
    'echo "process $1 stopped"',
  ]);
  return ['sh', '-c', script, 'zfs-fleet-kill', String(pid), args];
}

export interface MountUsers {
  /** The tool that answered: fuser, lsof, or none (neither installed). */
  tool: 'fuser' | 'lsof' | 'none';
  processes: ProcessInfo[];
}

/**
 * Who has files open (or a working directory) under a mountpoint: `fuser -m` where it exists,
 * else `lsof -t`; then `ps` for the details. Prints `tool NAME`, then `PID PPID ETIMES USER ARGS` lines.
 * (psmisc's fuser takes no `--`; the mountpoint is absolute, so it cannot look like an option.)
 */
export function mountUsersCommand(mountpoint: string): ZfsCommand<MountUsers> {
  const script = shellScript([
    'mp=$1',
    'if command -v fuser >/dev/null 2>&1; then echo "tool fuser"; pids=$(fuser -m "$mp" 2>/dev/null)',
    'elif command -v lsof >/dev/null 2>&1; then echo "tool lsof"; pids=$(lsof -w -t "$mp" 2>/dev/null)',
    'else echo "tool none"; exit 0; fi',
    'list=$(for p in $pids; do case $p in *[!0-9]*) ;; *) [ "$p" = "$$" ] || echo "$p";; esac; done | sort -un | paste -sd, -)',
    '[ -z "$list" ] || ps -ww -o pid=,ppid=,etimes=,user=,args= -p "$list"',
    'exit 0',
  ]);
  const argv = ['sh', '-c', script, 'zfs-fleet-mount-users', mountpoint];
  return { argv, parse: (out) => parseMountUsers(out) };
}

export function parseMountUsers(stdout: string): MountUsers {
  const nl = stdout.indexOf('\n');
  const first = (nl < 0 ? stdout : stdout.slice(0, nl)).trim();
  const m = /^tool (fuser|lsof|none)$/.exec(first);
  if (!m) throw new ZfsParseError('mount users', 1, first, 'expected "tool fuser|lsof|none"');
  return { tool: m[1] as MountUsers['tool'], processes: nl < 0 ? [] : parseProcessList(stdout.slice(nl + 1), true, 'ps') };
}

/** "7h", "3m", "42s": how long a process has run. */
export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${seconds}s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)}m`;
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}
