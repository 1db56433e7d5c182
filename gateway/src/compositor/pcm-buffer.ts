import { BLOCK_BYTES } from './audio-mix.ts';

/**
 * A per-participant jitter buffer of s16le stereo PCM (bytes in a ring, no allocation per block).
 * It waits until `targetBytes` are buffered before playing, goes back to waiting on underflow,
 * and trims back to the target when more than `maxBytes` pile up: ffmpeg flushes probed audio in
 * a burst, and without trimming each participant ends up with a different delay (prototype trap 4).
 */
export class PcmBuffer {
  private readonly ring: Buffer;
  private readPos = 0;
  private fill = 0;
  private playing = false;
  /** Blocks handed out. */
  played = 0;
  /** Blocks that found the buffer empty (silence played instead). */
  underflows = 0;
  /** Bytes dropped by trimming. */
  trimmedBytes = 0;
  firstAudioAt = -1;

  constructor(
    readonly targetBytes = BLOCK_BYTES * 3,
    readonly maxBytes = BLOCK_BYTES * 10,
    capacityBytes = BLOCK_BYTES * 50,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.ring = Buffer.alloc(capacityBytes);
  }

  get buffered(): number {
    return this.fill;
  }

  push(chunk: Buffer): void {
    if (this.firstAudioAt < 0 && chunk.length > 0) this.firstAudioAt = this.now();
    const cap = this.ring.length;
    let src = chunk;
    if (src.length > cap) src = src.subarray(src.length - cap);
    if (this.fill + src.length > cap) this.drop(this.fill + src.length - cap);
    let writePos = (this.readPos + this.fill) % cap;
    let off = 0;
    while (off < src.length) {
      const n = Math.min(src.length - off, cap - writePos);
      src.copy(this.ring, writePos, off, off + n);
      off += n;
      writePos = (writePos + n) % cap;
    }
    this.fill += src.length;
    if (this.fill > this.maxBytes) this.drop(this.fill - this.targetBytes);
  }

  /** Drop `bytes` (rounded up to whole stereo samples) from the head. */
  private drop(bytes: number): void {
    const n = Math.min(this.fill, Math.ceil(bytes / 4) * 4);
    this.readPos = (this.readPos + n) % this.ring.length;
    this.fill -= n;
    this.trimmedBytes += n;
  }

  /** Copy one block into `out` (BLOCK_BYTES). Returns false (out untouched) when not playing. */
  readBlock(out: Uint8Array): boolean {
    if (!this.playing) {
      if (this.fill < this.targetBytes) return false;
      this.playing = true;
    }
    if (this.fill < BLOCK_BYTES) {
      this.playing = false;
      this.underflows++;
      return false;
    }
    const cap = this.ring.length;
    let off = 0;
    while (off < BLOCK_BYTES) {
      const n = Math.min(BLOCK_BYTES - off, cap - this.readPos);
      out.set(this.ring.subarray(this.readPos, this.readPos + n), off);
      off += n;
      this.readPos = (this.readPos + n) % cap;
    }
    this.fill -= BLOCK_BYTES;
    this.played++;
    return true;
  }

  clear(): void {
    this.readPos = 0;
    this.fill = 0;
    this.playing = false;
  }
}
