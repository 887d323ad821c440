/** Run commands on this machine, argv without a shell, on execa. */
import { Readable, type Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { Logger } from '../core/log.js';
import { RunnerError, type RunOptions, type RunResult, type Runner } from '../core/runner.js';

type ExecaModule = typeof import('execa', { with: { 'resolution-mode': 'import' } });
let execaModule: Promise<ExecaModule> | undefined;
/** execa is an ES module; this file compiles as CommonJS, so it is loaded with import() (bundled by esbuild). */
function loadExeca(): Promise<ExecaModule> {
  execaModule ??= import('execa');
  return execaModule;
}

export interface LocalRunnerOptions {
  logger?: Logger;
  /** Extra environment for every command (merged over process.env). */
  env?: Record<string, string>;
}

export class LocalRunner implements Runner {
  readonly label = 'local';
  private readonly running = new Set<() => void>();

  constructor(private readonly options: LocalRunnerOptions = {}) {}

  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    if (argv.length === 0 || argv[0] === '') throw new RunnerError('spawn', 'Cannot run an empty command', 'local');
    if (options.signal?.aborted) throw new RunnerError('aborted', `Aborted before starting ${argv[0]}`, 'local');
    const { execa } = await loadExeca();
    const file = argv[0]!;
    const cancel = new AbortController();
    let timedOut = false;
    // Killing the command is not always enough for its output pipes to close (a child it started
    // may hold them), so on abort or timeout our ends are destroyed too: the run settles at once.
    const ref: { subprocess?: { stdout?: Readable | null; stderr?: Readable | null; stdin?: Writable | null } } = {};
    const cancelNow = () => {
      if (cancel.signal.aborted) return;
      cancel.abort();
      setTimeout(() => {
        ref.subprocess?.stdout?.destroy();
        ref.subprocess?.stderr?.destroy();
        ref.subprocess?.stdin?.destroy();
      }, 200).unref();
    };
    const onAbort = () => cancelNow();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      options.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            cancelNow();
          }, options.timeoutMs)
        : undefined;
    this.running.add(cancelNow);
    this.options.logger?.trace(`local: ${argv.join(' ')}`);

    const stdinIsStream = isReadable(options.stdin);
    const subprocess = execa(file, argv.slice(1), {
      reject: false,
      buffer: false,
      stripFinalNewline: false,
      ...(options.stdin === undefined
        ? { stdin: 'ignore' as const }
        : stdinIsStream
          ? { stdin: 'pipe' as const }
          : { input: options.stdin as string | Buffer }),
      stdout: 'pipe',
      stderr: 'pipe',
      cancelSignal: cancel.signal,
      ...(this.options.env ? { env: this.options.env } : {}),
    });

    ref.subprocess = subprocess;
    subprocess.stdout?.on('error', () => {});
    subprocess.stderr?.on('error', () => {});
    let destError: Error | undefined;
    let stdinError: Error | undefined;
    const stdoutChunks: Buffer[] = [];
    const stderrDecoder = new StringDecoder('utf8');
    let stderr = '';
    const dest = options.stdout;
    let destFinished: Promise<void> = Promise.resolve();

    if (subprocess.stdout) {
      if (dest) {
        // Backpressure through pipe(); never end the destination on failure (a truncated stream must
        // not look complete): it is ended below, once the command has exited.
        subprocess.stdout.pipe(dest, { end: false });
        dest.on('error', (e: Error) => {
          destError ??= e;
          cancel.abort();
        });
      } else {
        subprocess.stdout.on('data', (c: Buffer) => stdoutChunks.push(c));
      }
    }
    subprocess.stderr?.on('data', (c: Buffer) => {
      const s = stderrDecoder.write(c);
      if (s === '') return;
      stderr += s;
      options.onStderr?.(s);
    });
    if (stdinIsStream && subprocess.stdin) {
      const input = options.stdin as Readable;
      subprocess.stdin.on('error', () => {}); // EPIPE when the command exits without reading all of it
      input.on('error', (e: Error) => {
        stdinError ??= e;
        cancelNow();
      });
      input.pipe(subprocess.stdin);
    }

    try {
      const r = await subprocess;
      if (timer) clearTimeout(timer);
      if (dest && subprocess.stdout) {
        // Output has been read to the end when the subprocess promise resolves.
        subprocess.stdout.unpipe(dest);
      }
      const rest = stderrDecoder.end();
      if (rest) {
        stderr += rest;
        options.onStderr?.(rest);
      }
      if (destError) throw destError;
      if (stdinError) throw new RunnerError('aborted', `${file}: reading its standard input failed: ${stdinError.message}`, 'local', { cause: stdinError });
      if (timedOut) throw new RunnerError('timeout', `${file} timed out after ${options.timeoutMs} ms`, 'local');
      if (r.isCanceled) throw new RunnerError('aborted', `${file} was aborted`, 'local');
      if (r.exitCode === undefined && r.signal === undefined) {
        const code = (r as { code?: string }).code;
        const why = code === 'ENOENT' ? 'executable not found' : code === 'EACCES' ? 'permission denied' : r.shortMessage;
        throw new RunnerError('spawn', `Cannot run "${file}": ${why}${code ? ` (${code})` : ''}`, 'local', { cause: r.cause });
      }
      if (dest) destFinished = endAndWait(dest);
      await destFinished;
      const result: RunResult = {
        exitCode: r.exitCode ?? null,
        stdout: dest ? '' : Buffer.concat(stdoutChunks).toString('utf8'),
        stderr,
      };
      if (r.signal) result.exitSignal = r.signal;
      return result;
    } finally {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      this.running.delete(cancelNow);
      if (dest && subprocess.stdout) subprocess.stdout.unpipe(dest);
    }
  }

  async dispose(): Promise<void> {
    for (const c of this.running) c();
  }
}

/** A stream to pipe from (duck-typed, so streams from other copies of the stream module work too). */
export function isReadable(x: unknown): x is Readable {
  return (
    x instanceof Readable || (typeof x === 'object' && x !== null && typeof (x as Readable).pipe === 'function' && typeof (x as Readable).on === 'function')
  );
}

/** End a Writable and wait until everything written has been flushed (or it fails). */
export function endAndWait(dest: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    if (dest.writableFinished) return resolve();
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const onFinish = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      dest.off('error', onError);
      dest.off('finish', onFinish);
      dest.off('close', onFinish);
    };
    dest.on('error', onError);
    dest.on('finish', onFinish);
    dest.on('close', onFinish);
    if (!dest.writableEnded) dest.end();
  });
}
