/**
 * Audio mixing maths (pure): sum interleaved s16 stereo blocks and keep the result in range.
 * Plain summing of N loud voices clips hard (harsh square-wave distortion); dividing by N makes
 * one speaker quiet. Instead: sum in float, then a soft knee limiter: linear below the knee,
 * smoothly compressed above, never beyond full scale.
 */

export const SAMPLE_RATE = 48_000;
export const CHANNELS = 2;
/** 20 ms blocks: the Opus frame size, small enough for lip sync, large enough to be cheap. */
export const BLOCK_SAMPLES = 960;
export const BLOCK_BYTES = BLOCK_SAMPLES * CHANNELS * 2;

/** Knee of the limiter, as a fraction of full scale. */
export const KNEE = 0.8;
const FULL = 32767;

/**
 * Soft limit one sample (float, full scale = 1): identity up to KNEE, then a tanh curve that
 * approaches 1 asymptotically. Continuous with slope 1 at the knee: no audible corner.
 */
export function softLimit(x: number): number {
  const a = Math.abs(x);
  if (a <= KNEE) return x;
  const room = 1 - KNEE;
  const y = KNEE + room * Math.tanh((a - KNEE) / room);
  return x < 0 ? -y : y;
}

/**
 * Mix `inputs` (each Int16Array of `out.length` interleaved samples) into `out`. `acc` is a
 * caller-owned scratch buffer of the same length (no allocation per block).
 */
export function mixInto(out: Int16Array, inputs: readonly Int16Array[], acc: Float32Array): void {
  const n = out.length;
  if (inputs.length === 0) {
    out.fill(0);
    return;
  }
  if (inputs.length === 1) {
    // One source cannot exceed full scale: copy, the cheap common case.
    out.set(inputs[0]!.subarray(0, n));
    return;
  }
  acc.fill(0, 0, n);
  for (const input of inputs) {
    for (let i = 0; i < n; i++) acc[i]! += input[i]!;
  }
  const scale = 1 / FULL;
  for (let i = 0; i < n; i++) {
    const v = acc[i]! * scale;
    out[i] = Math.round((Math.abs(v) <= KNEE ? v : softLimit(v)) * FULL);
  }
}
