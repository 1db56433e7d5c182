/**
 * Pure layout geometry: which tile goes where on the output canvas. No I/O, no clocks: the
 * compositor calls `layout()` whenever the inputs change and draws what it returns.
 *
 * Every rectangle is on even coordinates with even sizes, because the canvas is yuv420p (chroma
 * is subsampled 2x2: an odd edge would split a chroma sample between two tiles).
 */

export type LayoutMode = 'grid' | 'speaker' | 'screen';
export type LayoutModeSetting = LayoutMode | 'auto';

/** One thing that can be shown: a participant's camera (or placeholder) or a screen share. */
export interface LayoutItem {
  /** Tile id: the participant id for cameras, `${participantId}:screen` for shares. */
  id: string;
  participantId: string;
  kind: 'camera' | 'screen';
}

export interface Canvas {
  width: number;
  height: number;
}

export interface LayoutOptions {
  /** Participant id of the active speaker (null: nobody talks). */
  activeSpeaker?: string | null;
  /** Space between tiles and around the edge, in pixels. */
  gap?: number;
  /** Height of the strip in speaker/screen modes as a fraction of the canvas height. */
  stripFraction?: number;
  /** Aspect ratio (w/h) of camera tiles. */
  tileAspect?: number;
}

export interface Tile {
  id: string;
  participantId: string;
  kind: 'camera' | 'screen';
  role: 'grid' | 'main' | 'strip';
  x: number;
  y: number;
  width: number;
  height: number;
}

export const MAX_TILES = 16;

const even = (v: number): number => Math.max(0, 2 * Math.floor(v / 2));

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The largest box of `aspect` that fits in `area`, centred. */
export function fitAspect(area: Box, aspect: number): Box {
  let w = area.width;
  let h = w / aspect;
  if (h > area.height) {
    h = area.height;
    w = h * aspect;
  }
  const width = even(w);
  const height = even(h);
  return {
    x: even(area.x + (area.width - width) / 2),
    y: even(area.y + (area.height - height) / 2),
    width,
    height,
  };
}

/**
 * `n` equal tiles of `aspect` in rows, as large as possible inside `area`, the whole block
 * centred and an incomplete last row centred too (letterboxed: the aspect is never stretched).
 */
function gridBoxes(n: number, area: Box, aspect: number, gap: number): Box[] {
  if (n <= 0) return [];
  let best = { cols: 1, rows: n, w: 0, h: 0 };
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const cellW = (area.width - gap * (cols + 1)) / cols;
    const cellH = (area.height - gap * (rows + 1)) / rows;
    if (cellW <= 0 || cellH <= 0) continue;
    let w = cellW;
    let h = w / aspect;
    if (h > cellH) {
      h = cellH;
      w = h * aspect;
    }
    if (w * h > best.w * best.h) best = { cols, rows, w, h };
  }
  const w = even(best.w);
  const h = even(best.h);
  const totalH = best.rows * h + (best.rows - 1) * gap;
  const y0 = area.y + (area.height - totalH) / 2;
  const boxes: Box[] = [];
  for (let i = 0; i < n; i++) {
    const row = Math.floor(i / best.cols);
    const col = i % best.cols;
    const inRow = Math.min(best.cols, n - row * best.cols);
    const rowW = inRow * w + (inRow - 1) * gap;
    const x0 = area.x + (area.width - rowW) / 2;
    boxes.push({ x: even(x0 + col * (w + gap)), y: even(y0 + row * (h + gap)), width: w, height: h });
  }
  return boxes;
}

/** One row of equal tiles of `aspect` centred in `area` (shrunk if they don't fit the width). */
function stripBoxes(n: number, area: Box, aspect: number, gap: number): Box[] {
  if (n <= 0) return [];
  let h = area.height - 2 * gap;
  let w = h * aspect;
  const maxW = (area.width - gap * (n + 1)) / n;
  if (w > maxW) {
    w = maxW;
    h = w / aspect;
  }
  const tw = even(w);
  const th = even(h);
  const rowW = n * tw + (n - 1) * gap;
  const x0 = area.x + (area.width - rowW) / 2;
  const y = area.y + (area.height - th) / 2;
  return Array.from({ length: n }, (_, i) => ({
    x: even(x0 + i * (tw + gap)),
    y: even(y),
    width: tw,
    height: th,
  }));
}

/**
 * Where each item goes. `items` is in display order (join order). Rules:
 * - grid: up to 16 items, equal tiles; screen shares are tiles like cameras.
 * - speaker: the active speaker's camera (else the first item) large, the other cameras in a strip
 *   along the bottom (screens are shown as cameras there).
 * - screen: the first screen share large (letterboxed 16:9 area), the cameras in a strip; without a
 *   share it falls back to speaker.
 * A mode with one item is that item full size.
 */
export function layout(
  items: readonly LayoutItem[],
  mode: LayoutMode,
  canvas: Canvas,
  opts: LayoutOptions = {},
): Tile[] {
  const gap = even(opts.gap ?? Math.max(2, Math.round(canvas.height / 90)));
  const aspect = opts.tileAspect ?? 16 / 9;
  const stripFraction = opts.stripFraction ?? 0.22;
  const full: Box = { x: 0, y: 0, width: canvas.width, height: canvas.height };
  const shown = items.slice(0, MAX_TILES);
  if (shown.length === 0) return [];

  const tile = (item: LayoutItem, role: Tile['role'], b: Box): Tile => ({
    id: item.id,
    participantId: item.participantId,
    kind: item.kind,
    role,
    ...b,
  });

  let main: LayoutItem | undefined;
  if (mode === 'screen') main = shown.find((i) => i.kind === 'screen');
  if (mode === 'speaker' || (mode === 'screen' && !main)) {
    main =
      shown.find((i) => i.kind === 'camera' && i.participantId === opts.activeSpeaker) ??
      shown.find((i) => i.kind === 'camera') ??
      shown[0];
  }
  if (mode === 'grid' || !main) {
    const inner: Box = { x: 0, y: 0, width: canvas.width, height: canvas.height };
    return gridBoxes(shown.length, inner, aspect, gap).map((b, i) => tile(shown[i]!, 'grid', b));
  }
  const others = shown.filter((i) => i !== main && (mode !== 'screen' || i.kind === 'camera'));
  if (others.length === 0) {
    return [tile(main, 'main', fitAspect(insetBox(full, gap), aspect))];
  }
  const stripH = even(canvas.height * stripFraction);
  const mainArea: Box = {
    x: gap,
    y: gap,
    width: canvas.width - 2 * gap,
    height: canvas.height - stripH - gap,
  };
  const stripArea: Box = { x: 0, y: canvas.height - stripH, width: canvas.width, height: stripH };
  const strip = others.slice(0, maxStripTiles(stripArea, aspect, gap));
  return [
    tile(main, 'main', fitAspect(mainArea, aspect)),
    ...stripBoxes(strip.length, stripArea, aspect, gap).map((b, i) => tile(strip[i]!, 'strip', b)),
  ];
}

function insetBox(b: Box, gap: number): Box {
  return { x: b.x + gap, y: b.y + gap, width: b.width - 2 * gap, height: b.height - 2 * gap };
}

/** Strip tiles below ~1/3 of the strip's natural width become unreadable: cap the count. */
function maxStripTiles(area: Box, aspect: number, gap: number): number {
  const natural = (area.height - 2 * gap) * aspect;
  const minW = natural / 3;
  return Math.max(1, Math.floor((area.width - gap) / (minW + gap)));
}
