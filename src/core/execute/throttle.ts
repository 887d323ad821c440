/**
 * A bandwidth limit for the relay route: the stream passes through this process, so it is paced
 * here (push and pull streams go host to host and would need `pv -L` or `mbuffer -r` on a host).
 * Chunks are cut to at most a tenth of a second's worth and let through when the bytes so far fit
 * the rate since the first one; the send waits meanwhile (backpressure), as it does for a slow network.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { sleep } from '../sleep.js';

export interface Clock {
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

const realClock: Clock = { now: () => performance.now(), sleep };

export class Throttle extends Transform {
  private start?: number;
  private passed = 0;
  private readonly stop = new AbortController();

  constructor(
    readonly bytesPerSecond: number,
    private readonly clock: Clock = realClock,
  ) {
    super({ highWaterMark: 1 << 16 });
    if (!(bytesPerSecond > 0) || !Number.isFinite(bytesPerSecond))
      throw new RangeError(`a bandwidth limit is a positive number of bytes per second, not ${bytesPerSecond}`);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.pace(chunk).then(
      () => callback(),
      (e: unknown) => callback(e as Error),
    );
  }

  private async pace(chunk: Buffer): Promise<void> {
    const slice = Math.max(1, Math.floor(this.bytesPerSecond / 10));
    for (let i = 0; i < chunk.length && !this.stop.signal.aborted; i += slice) {
      const part = chunk.subarray(i, i + slice);
      this.start ??= this.clock.now();
      // Due when the bytes before this part fit the rate: the first part goes at once.
      const due = this.start + (this.passed / this.bytesPerSecond) * 1000;
      const wait = due - this.clock.now();
      if (wait > 0) await this.clock.sleep(wait, this.stop.signal);
      this.passed += part.length;
      this.push(part);
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.stop.abort();
    callback(error);
  }
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * A rate as syncoid's --source-bwlimit, mbuffer's -r and pv's -L write it: bytes per second, with
 * an optional K, M or G (powers of 1024) and an optional `/s` or `B`; a number is bytes per second.
 */
export function parseRate(v: unknown): number {
  if (typeof v === 'number') {
    if (Number.isFinite(v) && v >= 1) return Math.floor(v);
  } else if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?(?:\/s)?\s*$/i.exec(v);
    if (m) {
      const n = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
      if (n >= 1) return Math.floor(n);
    }
  }
  throw new RangeError(`a bandwidth limit is bytes per second, e.g. "10M" (MiB/s), "500K" or 1048576, not ${JSON.stringify(v)}`);
}
