/**
 * A bounded FIFO of raw frames from one decoder, in preallocated slots (no allocation per frame).
 * The output clock takes one frame per tick. "Latest frame wins" sampling of a 30 fps source by
 * a 30 fps clock gave 2–31 % duplicates (prototype trap 6); a FIFO plays every frame once and only
 * drops one when a spare frame has persisted for `spareDropMs` (source clock slightly faster).
 */
export class FrameQueue {
  readonly frameBytes: number;
  private readonly slots: Buffer[];
  private readonly free: number[] = [];
  private readonly ready: number[] = [];
  private filling = -1;
  private fillPos = 0;
  private current = -1;
  private spareSince = -1;
  /** Frames delivered by the decoder. */
  received = 0;
  /** Frames thrown away (ring full, or a persistent spare). */
  dropped = 0;
  /** Ticks that re-showed the previous frame (source slower than the clock, or a stall). */
  repeated = 0;
  /** When the first complete frame arrived (ms, caller's clock), or -1. */
  firstFrameAt = -1;

  constructor(
    readonly width: number,
    readonly height: number,
    slots = 6,
    private readonly spareDropMs = 1000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.frameBytes = (width * height * 3) / 2;
    this.slots = Array.from({ length: slots }, () => Buffer.allocUnsafe(this.frameBytes));
    for (let i = 0; i < slots; i++) this.free.push(i);
  }

  /** Feed bytes from the decoder's pipe (any chunking). */
  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.filling < 0) this.filling = this.takeFree();
      const slot = this.slots[this.filling]!;
      const n = Math.min(chunk.length - off, this.frameBytes - this.fillPos);
      chunk.copy(slot, this.fillPos, off, off + n);
      off += n;
      this.fillPos += n;
      if (this.fillPos === this.frameBytes) {
        this.ready.push(this.filling);
        this.filling = -1;
        this.fillPos = 0;
        this.received++;
        if (this.firstFrameAt < 0) this.firstFrameAt = this.now();
      }
    }
  }

  /**
   * Zero-copy feeding: the unfilled tail of the frame being filled, for the pipe to read straight
   * into (see VideoDecoder). Valid until the next advance(); the slot is reserved meanwhile.
   */
  writeTarget(): Buffer {
    if (this.filling < 0) this.filling = this.takeFree();
    return this.slots[this.filling]!.subarray(this.fillPos);
  }

  /** `n` bytes were written into the buffer last returned by writeTarget(). */
  advance(n: number): void {
    if (this.filling < 0) return;
    this.fillPos += n;
    if (this.fillPos >= this.frameBytes) {
      this.ready.push(this.filling);
      this.filling = -1;
      this.fillPos = 0;
      this.received++;
      if (this.firstFrameAt < 0) this.firstFrameAt = this.now();
    }
  }

  private takeFree(): number {
    const f = this.free.pop();
    if (f !== undefined) return f;
    // Ring full: the consumer is behind; drop the oldest queued frame.
    const oldest = this.ready.shift()!;
    this.dropped++;
    return oldest;
  }

  /** The frame to show this tick (advances the FIFO by one), or null before the first frame. */
  next(): Buffer | null {
    const idx = this.ready.shift();
    if (idx === undefined) {
      if (this.current >= 0) this.repeated++;
      this.spareSince = -1;
      return this.current >= 0 ? this.slots[this.current]! : null;
    }
    if (this.current >= 0) this.free.push(this.current);
    this.current = idx;
    if (this.ready.length > 0) {
      const t = this.now();
      if (this.spareSince < 0) this.spareSince = t;
      else if (t - this.spareSince >= this.spareDropMs) {
        this.free.push(this.ready.shift()!);
        this.dropped++;
        this.spareSince = -1;
      }
    } else {
      this.spareSince = -1;
    }
    return this.slots[this.current]!;
  }

  /** The frame shown last (null before the first), without advancing. */
  last(): Buffer | null {
    return this.current >= 0 ? this.slots[this.current]! : null;
  }

  get queued(): number {
    return this.ready.length;
  }
}
