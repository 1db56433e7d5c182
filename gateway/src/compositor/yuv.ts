/**
 * yuv420p image helpers. An image is one Buffer: the Y plane (w*h), then U and V (w/2*h/2 each).
 * Everything here is row copies and fills on even coordinates: no per-pixel maths on the hot path.
 */

export interface Yuv {
  y: number;
  u: number;
  v: number;
}

export interface YuvImage {
  width: number;
  height: number;
  data: Buffer;
}

export const frameBytes = (w: number, h: number): number => (w * h * 3) / 2;

/** BT.601 limited range, what x264 and the decoders assume for yuv420p. */
export function rgbToYuv(r: number, g: number, b: number): Yuv {
  return {
    y: Math.round(16 + 0.257 * r + 0.504 * g + 0.098 * b),
    u: Math.round(128 - 0.148 * r - 0.291 * g + 0.439 * b),
    v: Math.round(128 + 0.439 * r - 0.368 * g - 0.071 * b),
  };
}

export function newImage(width: number, height: number, fill?: Yuv): YuvImage {
  const img = { width, height, data: Buffer.alloc(frameBytes(width, height)) };
  if (fill) fillRect(img, 0, 0, width, height, fill);
  return img;
}

/** Fill a rectangle (clipped to the image; x, y, w, h even). */
export function fillRect(img: YuvImage, x: number, y: number, w: number, h: number, c: Yuv): void {
  const x0 = Math.max(0, x);
  const y0 = Math.max(0, y);
  const x1 = Math.min(img.width, x + w);
  const y1 = Math.min(img.height, y + h);
  if (x1 <= x0 || y1 <= y0) return;
  const W = img.width;
  const d = img.data;
  for (let r = y0; r < y1; r++) d.fill(c.y, r * W + x0, r * W + x1);
  const cw = W >> 1;
  const uOff = W * img.height;
  const vOff = uOff + cw * (img.height >> 1);
  for (let r = y0 >> 1; r < y1 >> 1; r++) {
    d.fill(c.u, uOff + r * cw + (x0 >> 1), uOff + r * cw + (x1 >> 1));
    d.fill(c.v, vOff + r * cw + (x0 >> 1), vOff + r * cw + (x1 >> 1));
  }
}

/** Copy `src` (a whole yuv420p frame of sw x sh) into `dst` at (x, y), clipped. Row copies. */
export function blit(dst: YuvImage, src: Buffer, sw: number, sh: number, x: number, y: number): void {
  const W = dst.width;
  const H = dst.height;
  const w = Math.min(sw, W - x);
  const h = Math.min(sh, H - y);
  if (w <= 0 || h <= 0 || x < 0 || y < 0) return;
  const d = dst.data;
  for (let r = 0; r < h; r++) src.copy(d, (y + r) * W + x, r * sw, r * sw + w);
  const cw = W >> 1;
  const scw = sw >> 1;
  const dU = W * H;
  const dV = dU + cw * (H >> 1);
  const sU = sw * sh;
  const sV = sU + scw * (sh >> 1);
  const ch = h >> 1;
  const cwid = w >> 1;
  const cx = x >> 1;
  const cy = y >> 1;
  for (let r = 0; r < ch; r++) {
    src.copy(d, dU + (cy + r) * cw + cx, sU + r * scw, sU + r * scw + cwid);
    src.copy(d, dV + (cy + r) * cw + cx, sV + r * scw, sV + r * scw + cwid);
  }
}

/**
 * Nearest-neighbour scale of a whole frame. Allocates: only for one-off use (freezing the last
 * frame of a tile whose size changed), never per output frame.
 */
export function scaleNearest(src: Buffer, sw: number, sh: number, dw: number, dh: number): Buffer {
  const out = Buffer.alloc(frameBytes(dw, dh));
  const plane = (sOff: number, spw: number, sph: number, dOff: number, dpw: number, dph: number) => {
    const xs = new Int32Array(dpw);
    for (let x = 0; x < dpw; x++) xs[x] = Math.min(spw - 1, Math.floor((x * spw) / dpw));
    for (let y = 0; y < dph; y++) {
      const sy = Math.min(sph - 1, Math.floor((y * sph) / dph));
      const srow = sOff + sy * spw;
      const drow = dOff + y * dpw;
      for (let x = 0; x < dpw; x++) out[drow + x] = src[srow + xs[x]!]!;
    }
  };
  plane(0, sw, sh, 0, dw, dh);
  const sU = sw * sh;
  const dU = dw * dh;
  const sq = (sw >> 1) * (sh >> 1);
  const dq = (dw >> 1) * (dh >> 1);
  plane(sU, sw >> 1, sh >> 1, dU, dw >> 1, dh >> 1);
  plane(sU + sq, sw >> 1, sh >> 1, dU + dq, dw >> 1, dh >> 1);
  return out;
}

/**
 * Draw an 8-bit coverage mask (text from text.ts) onto the Y plane at (x, y), blending from the
 * pixel's current luma to `luma`. Used when building label/placeholder images, not per frame.
 */
export function drawMask(
  img: YuvImage,
  mask: Uint8Array,
  mw: number,
  mh: number,
  x: number,
  y: number,
  luma: number,
): void {
  for (let r = 0; r < mh; r++) {
    const yy = y + r;
    if (yy < 0 || yy >= img.height) continue;
    for (let c = 0; c < mw; c++) {
      const xx = x + c;
      if (xx < 0 || xx >= img.width) continue;
      const a = mask[r * mw + c]!;
      if (a === 0) continue;
      const i = yy * img.width + xx;
      img.data[i] = Math.round(img.data[i]! + ((luma - img.data[i]!) * a) / 255);
    }
  }
}
