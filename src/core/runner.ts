import type { Readable, Writable } from 'node:stream';

/** How a command is run on a host: argv, never a shell string; each Runner quotes for its own shell layer. */
export interface RunOptions {
  /** Data for the command's standard input: a stream (piped, then ended), or a string/Buffer written then ended. */
  stdin?: Readable | string | Buffer;
  /** When given, standard output is piped here (for send/recv streams) and RunResult.stdout is ''. */
  stdout?: Writable;
  /** Called with each chunk of standard error as it arrives (progress lines of `zfs send -v`). */
  onStderr?: (chunk: string) => void;
  /** Kill the command (and fail with RunnerError 'timeout') after this many milliseconds. */
  timeoutMs?: number;
  /** Abort: kill the command and fail with RunnerError 'aborted'. */
  signal?: AbortSignal;
}

export interface RunResult {
  /** The command's exit code; null when it was ended by a signal. */
  exitCode: number | null;
  /** The signal that ended it, if any. */
  exitSignal?: string;
  stdout: string;
  stderr: string;
}

/** Why a command could not be run at all (a non-zero exit is not an error here: it is a RunResult). */
export type RunnerErrorCode =
  | 'timeout'
  | 'aborted'
  | 'connect' // TCP/DNS/handshake failure, host unreachable
  | 'auth' // no accepted authentication method
  | 'hostkey-unknown' // the user declined an unknown host key
  | 'hostkey-changed' // the host presented a key different from known_hosts
  | 'disconnected' // the connection dropped while a command ran
  | 'spawn' // a local executable could not be started
  | 'config'; // bad host spec / ssh config

export class RunnerError extends Error {
  constructor(
    readonly code: RunnerErrorCode,
    message: string,
    readonly host?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RunnerError';
  }
}

export interface Runner {
  /** A label for messages: the host alias, or 'local'. */
  readonly label: string;
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Close connections; later run() calls may reconnect. */
  dispose(): Promise<void>;
}
