import { describe, expect, it } from 'vitest';
import { blit, fillRect, newImage, rgbToYuv, scaleNearest } from '../../gateway/src/compositor/yuv.ts';
import { encoderArgs } from '../../gateway/src/compositor/encoder.ts';
import { initials } from '../../gateway/src/compositor/text.ts';

const at = (img: { width: number; height: number; data: Buffer }, x: number, y: number) => {
  const W = img.width;
  const uOff = W * img.height;
  const vOff = uOff + (W / 2) * (img.height / 2);
  const c = (y >> 1) * (W / 2) + (x >> 1);
  return [img.data[y * W + x], img.data[uOff + c], img.data[vOff + c]];
};

describe('yuv420p canvas helpers', () => {
  it('fillRect paints luma and chroma only inside the rectangle', () => {
    const img = newImage(16, 8, { y: 16, u: 128, v: 128 });
    fillRect(img, 4, 2, 6, 4, { y: 200, u: 50, v: 60 });
    expect(at(img, 4, 2)).toEqual([200, 50, 60]);
    expect(at(img, 9, 5)).toEqual([200, 50, 60]);
    expect(at(img, 10, 5)).toEqual([16, 128, 128]);
    expect(at(img, 4, 6)).toEqual([16, 128, 128]);
  });

  it('blit copies a frame at an offset and clips at the canvas edge', () => {
    const canvas = newImage(16, 8, { y: 0, u: 0, v: 0 });
    const tile = newImage(8, 4, { y: 100, u: 110, v: 120 });
    blit(canvas, tile.data, 8, 4, 12, 6);
    expect(at(canvas, 12, 6)).toEqual([100, 110, 120]);
    expect(at(canvas, 15, 7)).toEqual([100, 110, 120]);
    expect(at(canvas, 11, 6)).toEqual([0, 0, 0]);
    expect(at(canvas, 12, 5)).toEqual([0, 0, 0]);
  });

  it('scaleNearest keeps colours and maps corners', () => {
    const src = newImage(4, 4, { y: 10, u: 20, v: 30 });
    fillRect(src, 2, 2, 2, 2, { y: 200, u: 210, v: 220 });
    const out = scaleNearest(src.data, 4, 4, 8, 8);
    const img = { width: 8, height: 8, data: out };
    expect(at(img, 0, 0)).toEqual([10, 20, 30]);
    expect(at(img, 7, 7)).toEqual([200, 210, 220]);
  });

  it('rgbToYuv gives BT.601 limited range', () => {
    expect(rgbToYuv(0, 0, 0)).toEqual({ y: 16, u: 128, v: 128 });
    expect(rgbToYuv(255, 255, 255).y).toBe(235);
  });
});

describe('encoder settings from the output config', () => {
  const args = encoderArgs(
    {
      width: 1920,
      height: 1080,
      fps: 25,
      videoBitrateKbps: 4000,
      audioBitrateKbps: 160,
      preset: 'superfast',
      keyframeIntervalSeconds: 2,
    },
    'rtmp://h/app/key',
  );
  const val = (flag: string) => args[args.indexOf(flag) + 1];

  it('uses a fixed GOP of fps × keyframe interval and no scene-cut keyframes', () => {
    expect(val('-g')).toBe('50');
    expect(val('-keyint_min')).toBe('50');
    expect(val('-sc_threshold')).toBe('0');
  });

  it('passes size, rate, bitrates and preset through', () => {
    expect(val('-s')).toBe('1920x1080');
    expect(val('-framerate')).toBe('25');
    expect(val('-b:v')).toBe('4000k');
    expect(val('-b:a')).toBe('160k');
    expect(val('-preset')).toBe('superfast');
    expect(val('-tune')).toBe('zerolatency');
    expect(args.at(-1)).toBe('rtmp://h/app/key');
    expect(val('-f')).toBe('rawvideo');
  });
});

describe('initials', () => {
  it('takes first and last name initials', () => {
    expect(initials('Ada Lovelace')).toBe('AL');
    expect(initials('  bob  ')).toBe('B');
    expect(initials('Jean Paul Sartre')).toBe('JS');
    expect(initials('')).toBe('?');
  });
});
