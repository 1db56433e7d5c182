import { describe, expect, it } from 'vitest';
import { layout, MAX_TILES, type LayoutItem, type Tile } from '../../gateway/src/compositor/layout.ts';

const canvas = { width: 1280, height: 720 };
const cams = (n: number): LayoutItem[] =>
  Array.from({ length: n }, (_, i) => ({ id: `p${i}`, participantId: `p${i}`, kind: 'camera' as const }));
const screenOf = (pid: string): LayoutItem => ({ id: `${pid}:screen`, participantId: pid, kind: 'screen' });

const overlaps = (a: Tile, b: Tile) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

function checkSane(tiles: Tile[], c = canvas) {
  for (const t of tiles) {
    expect((t.x % 2) + (t.y % 2) + (t.width % 2) + (t.height % 2), `even ${JSON.stringify(t)}`).toBe(0);
    expect(t.width).toBeGreaterThan(0);
    expect(t.height).toBeGreaterThan(0);
    expect(t.x).toBeGreaterThanOrEqual(0);
    expect(t.y).toBeGreaterThanOrEqual(0);
    expect(t.x + t.width).toBeLessThanOrEqual(c.width);
    expect(t.y + t.height).toBeLessThanOrEqual(c.height);
  }
  for (let i = 0; i < tiles.length; i++)
    for (let j = i + 1; j < tiles.length; j++) expect(overlaps(tiles[i]!, tiles[j]!)).toBe(false);
}

describe('grid layout', () => {
  for (let n = 1; n <= 16; n++) {
    it(`${n} tile(s): equal 16:9 tiles, inside the canvas, no overlap, centred`, () => {
      const tiles = layout(cams(n), 'grid', canvas);
      expect(tiles).toHaveLength(n);
      checkSane(tiles);
      const w = tiles[0]!.width;
      const h = tiles[0]!.height;
      for (const t of tiles) expect([t.width, t.height]).toEqual([w, h]);
      expect(Math.abs(w / h - 16 / 9)).toBeLessThan(0.03);
      // Centred: the margins left/right and top/bottom of the whole block differ by < 4 px.
      const minX = Math.min(...tiles.map((t) => t.x));
      const maxX = Math.max(...tiles.map((t) => t.x + t.width));
      const minY = Math.min(...tiles.map((t) => t.y));
      const maxY = Math.max(...tiles.map((t) => t.y + t.height));
      expect(Math.abs(minX - (canvas.width - maxX))).toBeLessThanOrEqual(4);
      expect(Math.abs(minY - (canvas.height - maxY))).toBeLessThanOrEqual(4);
      expect(tiles.map((t) => t.id)).toEqual(cams(n).map((c) => c.id));
    });
  }

  it('4 tiles at 720p are a 2x2 of ~640x360 cells', () => {
    const tiles = layout(cams(4), 'grid', canvas);
    expect(new Set(tiles.map((t) => t.x)).size).toBe(2);
    expect(new Set(tiles.map((t) => t.y)).size).toBe(2);
    expect(tiles[0]!.width).toBeGreaterThan(600);
  });

  it('bigger grids use more rows and smaller tiles; 16 fill a 4x4', () => {
    const t9 = layout(cams(9), 'grid', canvas);
    expect(new Set(t9.map((t) => t.y)).size).toBe(3);
    const t16 = layout(cams(16), 'grid', canvas);
    expect(new Set(t16.map((t) => t.x)).size).toBe(4);
    expect(new Set(t16.map((t) => t.y)).size).toBe(4);
    expect(t16[0]!.width).toBeLessThan(t9[0]!.width);
  });

  it('an incomplete last row is centred', () => {
    const tiles = layout(cams(3), 'grid', canvas);
    const last = tiles[2]!;
    const centre = last.x + last.width / 2;
    expect(Math.abs(centre - canvas.width / 2)).toBeLessThanOrEqual(2);
  });

  it(`shows at most ${MAX_TILES} tiles`, () => {
    expect(layout(cams(20), 'grid', canvas)).toHaveLength(MAX_TILES);
  });

  it('nothing to show → no tiles; odd canvas-friendly sizes at 640x360', () => {
    expect(layout([], 'grid', canvas)).toEqual([]);
    for (let n = 1; n <= 16; n++)
      checkSane(layout(cams(n), 'grid', { width: 640, height: 360 }), { width: 640, height: 360 });
  });
});

describe('speaker layout', () => {
  it('puts the active speaker large and the others in a strip below', () => {
    const tiles = layout(cams(4), 'speaker', canvas, { activeSpeaker: 'p2' });
    checkSane(tiles);
    const main = tiles.find((t) => t.role === 'main')!;
    expect(main.id).toBe('p2');
    const strip = tiles.filter((t) => t.role === 'strip');
    expect(strip.map((t) => t.id)).toEqual(['p0', 'p1', 'p3']);
    for (const s of strip) {
      expect(s.y).toBeGreaterThanOrEqual(main.y + main.height);
      expect(s.width * s.height).toBeLessThan((main.width * main.height) / 4);
    }
  });

  it('without an active speaker the first participant is large', () => {
    const tiles = layout(cams(3), 'speaker', canvas, { activeSpeaker: null });
    expect(tiles.find((t) => t.role === 'main')!.id).toBe('p0');
  });

  it('one participant fills the canvas', () => {
    const [t] = layout(cams(1), 'speaker', canvas);
    expect(t!.role).toBe('main');
    expect(t!.width).toBeGreaterThan(1200);
  });

  it('a long strip is capped, still inside the canvas', () => {
    const tiles = layout(cams(16), 'speaker', canvas, { activeSpeaker: 'p5' });
    checkSane(tiles);
    expect(tiles.filter((t) => t.role === 'strip').length).toBeLessThan(15);
  });
});

describe('screen layout', () => {
  it('shows the share large and the cameras in a strip', () => {
    const items = [...cams(3).slice(0, 2), screenOf('p1'), cams(3)[2]!];
    const tiles = layout(items, 'screen', canvas, { activeSpeaker: 'p0' });
    checkSane(tiles);
    expect(tiles.find((t) => t.role === 'main')!.id).toBe('p1:screen');
    expect(tiles.filter((t) => t.role === 'strip').map((t) => t.id)).toEqual(['p0', 'p1', 'p2']);
  });

  it('falls back to the speaker view when nobody shares', () => {
    const tiles = layout(cams(3), 'screen', canvas, { activeSpeaker: 'p2' });
    expect(tiles.find((t) => t.role === 'main')!.id).toBe('p2');
  });

  it('a share in grid mode is a tile like the cameras', () => {
    const tiles = layout([...cams(2), screenOf('p0')], 'grid', canvas);
    expect(tiles.map((t) => t.id)).toEqual(['p0', 'p1', 'p0:screen']);
  });
});
