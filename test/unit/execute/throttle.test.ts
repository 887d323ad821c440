/** The relay's bandwidth limit, on a virtual clock (what it waits is computed, not timed), and the rates the fleet file and syncoid's flags write. */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { parseRate, Throttle, type Clock } from '../../../src/core/execute/throttle.js';

function virtualClock(): Clock & { t: number; waits: number[] } {
  const c = {
    t: 0,
    waits: [] as number[],
    now: () => c.t,
    sleep: async (ms: number) => {
      c.waits.push(ms);
      c.t += ms;
    },
  };
  return c;
}

async function through(t: Throttle, chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    t,
    new Writable({
      write(chunk: Buffer, _e, cb) {
        out.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

describe('Throttle (relay bwlimit)', () => {
  it('lets the bytes through unchanged, at the rate: 3,000 bytes at 1,000 B/s, the last slice let go at 2.934 s', async () => {
    const clock = virtualClock();
    const data = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
    const out = await through(new Throttle(1000, clock), [data.subarray(0, 1234), data.subarray(1234)]);
    expect(out.equals(data)).toBe(true);
    // Slices of at most a tenth of a second's worth (100 bytes) per chunk: 12 x 100 + 34, then 17 x 100 + 66;
    // the last slice (66 bytes) is due when the 2,934 bytes before it fit the rate.
    expect(clock.t).toBeCloseTo(2934, 6);
    expect(Math.max(...clock.waits)).toBeLessThanOrEqual(100 + 1e-9);
  });

  it('a slow source is not held back further: time already spent waiting for data counts', async () => {
    const clock = virtualClock();
    const t = new Throttle(1000, clock);
    const out: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        out.push(chunk);
        cb();
      },
    });
    t.pipe(sink);
    t.write(Buffer.alloc(100));
    await new Promise((r) => setImmediate(r));
    clock.t += 5000; // the send was idle for 5 s
    t.end(Buffer.alloc(100));
    await new Promise((r) => sink.on('finish', r));
    expect(clock.waits).toEqual([]);
    expect(Buffer.concat(out).length).toBe(200);
  });

  it('refuses a rate that is not a positive number', () => {
    expect(() => new Throttle(0)).toThrow(/positive number of bytes per second/);
    expect(() => new Throttle(Number.NaN)).toThrow(RangeError);
  });
});

describe('parseRate (fleet file bwlimit, syncoid --source-bwlimit)', () => {
  it('reads bytes per second with K, M, G as powers of 1024, as mbuffer -r and pv -L do', () => {
    expect(parseRate('10M')).toBe(10 * 1024 * 1024);
    expect(parseRate('20m')).toBe(20 * 1024 * 1024);
    expect(parseRate('500K')).toBe(500 * 1024);
    expect(parseRate('1.5G')).toBe(1.5 * 1024 ** 3);
    expect(parseRate('10MiB/s')).toBe(10 * 1024 * 1024);
    expect(parseRate(' 4096 ')).toBe(4096);
    expect(parseRate(1048576)).toBe(1048576);
  });
  it('refuses what is not a rate, naming it', () => {
    for (const bad of ['fast', '', '0', '-1M', '10T', 0, -5, Number.POSITIVE_INFINITY, null, true])
      expect(() => parseRate(bad), String(bad)).toThrow(/a bandwidth limit is bytes per second, e\.g\. "10M"/);
  });
});
