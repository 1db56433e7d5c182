import { describe, expect, it } from 'vitest';
import {
  BLOCK_BYTES,
  BLOCK_SAMPLES,
  CHANNELS,
  KNEE,
  mixInto,
  softLimit,
} from '../../gateway/src/compositor/audio-mix.ts';
import { PcmBuffer } from '../../gateway/src/compositor/pcm-buffer.ts';
import { FrameQueue } from '../../gateway/src/compositor/frame-queue.ts';

const N = BLOCK_SAMPLES * CHANNELS;
const sine = (amp: number, freq: number, phase = 0) =>
  Int16Array.from({ length: N }, (_, i) =>
    Math.round(amp * Math.sin(phase + (2 * Math.PI * freq * Math.floor(i / 2)) / 48000)),
  );

describe('soft limiter', () => {
  it('is the identity below the knee and never reaches full scale', () => {
    expect(softLimit(0.5)).toBe(0.5);
    expect(softLimit(-KNEE)).toBe(-KNEE);
    for (const x of [0.9, 1, 1.5, 3, 10, 100]) {
      expect(softLimit(x)).toBeLessThanOrEqual(1);
      if (x <= 1.5) expect(softLimit(x)).toBeLessThan(1);
      expect(softLimit(x)).toBeGreaterThan(KNEE);
      expect(softLimit(-x)).toBe(-softLimit(x));
    }
  });

  it('is monotonic and continuous at the knee', () => {
    let prev = -Infinity;
    for (let x = 0; x < 4; x += 0.01) {
      const y = softLimit(x);
      expect(y).toBeGreaterThanOrEqual(prev);
      prev = y;
    }
    expect(Math.abs(softLimit(KNEE + 1e-6) - softLimit(KNEE))).toBeLessThan(1e-5);
  });
});

describe('mixInto', () => {
  const acc = new Float32Array(N);

  it('no input is silence; one input passes through unchanged', () => {
    const out = new Int16Array(N).fill(7);
    mixInto(out, [], acc);
    expect(out.every((v) => v === 0)).toBe(true);
    const a = sine(20000, 440);
    mixInto(out, [a], acc);
    expect(Array.from(out)).toEqual(Array.from(a));
  });

  it('quiet inputs add up exactly', () => {
    const a = sine(5000, 440);
    const b = sine(6000, 660);
    const out = new Int16Array(N);
    mixInto(out, [a, b], acc);
    for (let i = 0; i < N; i++) expect(out[i]).toBe(a[i]! + b[i]!);
  });

  it('four loud voices never clip or wrap around', () => {
    const inputs = [sine(30000, 300), sine(30000, 300), sine(30000, 300, 0.1), sine(32767, 300)];
    const out = new Int16Array(N);
    mixInto(out, inputs, acc);
    let peak = 0;
    for (let i = 0; i < N; i++) {
      peak = Math.max(peak, Math.abs(out[i]!));
      // Same sign as the sum: no int16 wrap-around.
      const sum = inputs.reduce((s, x) => s + x[i]!, 0);
      if (Math.abs(sum) > 1000) expect(Math.sign(out[i]!)).toBe(Math.sign(sum));
    }
    expect(peak).toBeLessThanOrEqual(32767);
    expect(peak).toBeGreaterThan(KNEE * 32767);
  });
});

describe('PcmBuffer (per-participant jitter buffer)', () => {
  it('waits for the target fill, then plays whole blocks, then underflows to silence', () => {
    const b = new PcmBuffer(BLOCK_BYTES * 2, BLOCK_BYTES * 10);
    const out = new Uint8Array(BLOCK_BYTES);
    b.push(Buffer.alloc(BLOCK_BYTES, 1));
    expect(b.readBlock(out)).toBe(false);
    b.push(Buffer.alloc(BLOCK_BYTES, 2));
    expect(b.readBlock(out)).toBe(true);
    expect(out[0]).toBe(1);
    expect(b.readBlock(out)).toBe(true);
    expect(out[0]).toBe(2);
    expect(b.readBlock(out)).toBe(false);
    expect(b.underflows).toBe(1);
  });

  it('trims a burst back to the target (equal delay for everyone)', () => {
    const b = new PcmBuffer(BLOCK_BYTES * 3, BLOCK_BYTES * 10);
    b.push(Buffer.alloc(BLOCK_BYTES * 25));
    expect(b.buffered).toBe(BLOCK_BYTES * 3);
    expect(b.trimmedBytes).toBe(BLOCK_BYTES * 22);
  });

  it('keeps sample order across ring wrap-around and odd chunking', () => {
    const b = new PcmBuffer(BLOCK_BYTES, BLOCK_BYTES * 3, BLOCK_BYTES * 4);
    const out = new Uint8Array(BLOCK_BYTES);
    let written = 0;
    let read = 0;
    for (let round = 0; round < 20; round++) {
      const chunk = Buffer.alloc(BLOCK_BYTES + 3);
      for (let i = 0; i < chunk.length; i++) chunk[i] = (written + i) % 251;
      // Split into odd pieces like a pipe would.
      b.push(chunk.subarray(0, 1001));
      b.push(chunk.subarray(1001));
      written += chunk.length;
      while (b.readBlock(out)) {
        for (let i = 0; i < BLOCK_BYTES; i++) expect(out[i]).toBe((read + i) % 251);
        read += BLOCK_BYTES;
      }
    }
    expect(read).toBeGreaterThan(0);
  });
});

describe('FrameQueue (per-decoder FIFO)', () => {
  const W = 4;
  const H = 2;
  const frame = (v: number) => Buffer.alloc((W * H * 3) / 2, v);

  it('assembles frames from any chunking and plays each once', () => {
    const q = new FrameQueue(W, H, 4, 1000, () => 0);
    expect(q.next()).toBeNull();
    const all = Buffer.concat([frame(1), frame(2)]);
    q.push(all.subarray(0, 5));
    q.push(all.subarray(5));
    expect(q.next()![0]).toBe(1);
    expect(q.next()![0]).toBe(2);
    expect(q.next()![0]).toBe(2); // source slower: repeat
    expect(q.repeated).toBe(1);
  });

  it('assembles frames read in place (writeTarget/advance, the FIFO reader path)', () => {
    const q = new FrameQueue(W, H, 3, 1000, () => 0);
    const bytes = (W * H * 3) / 2;
    // Reads of 5 bytes, then the rest of frame 1 and part of frame 2, like a pipe would deliver.
    for (const [v, n] of [
      [1, 5],
      [1, bytes - 5],
      [2, 7],
      [2, bytes - 7],
    ] as const) {
      const t = q.writeTarget();
      expect(t.length).toBeGreaterThanOrEqual(n);
      t.fill(v, 0, n);
      q.advance(n);
    }
    expect(q.received).toBe(2);
    const f1 = q.next()!;
    expect(f1.length).toBe(bytes);
    expect(f1.every((b) => b === 1)).toBe(true);
    expect(q.next()!.every((b) => b === 2)).toBe(true);
    // The target never spans two frames: the next read lands at the start of a fresh slot.
    expect(q.writeTarget().length).toBe(bytes);
  });

  it('drops a frame only when a spare persists (no duplicates in steady state)', () => {
    let now = 0;
    const q = new FrameQueue(W, H, 6, 1000, () => now);
    q.push(frame(1));
    q.push(frame(2)); // one spare from the start
    for (let i = 0; i < 20; i++) {
      now += 33;
      q.push(frame(3 + i));
      q.next();
    }
    expect(q.dropped).toBe(0);
    for (let i = 0; i < 20; i++) {
      now += 33;
      q.push(frame(23 + i));
      q.next();
    }
    expect(q.dropped).toBe(1);
  });

  it('a full ring drops the oldest', () => {
    const q = new FrameQueue(W, H, 3, 1000, () => 0);
    for (let i = 1; i <= 5; i++) q.push(frame(i));
    expect(q.dropped).toBeGreaterThan(0);
    expect(q.next()![0]).toBeGreaterThan(1);
  });
});
