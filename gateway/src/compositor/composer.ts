import type { Logger } from '../log/logger.ts';
import type { Tile } from './layout.ts';
import { initials, renderText, type TextMask } from './text.ts';
import { blit, drawMask, fillRect, newImage, rgbToYuv, type Yuv, type YuvImage } from './yuv.ts';

/**
 * Draws the canvas for one output frame: background, each tile's live frame (or its placeholder),
 * name labels and the active-speaker border. Per frame this is only row copies and a few fills;
 * labels and placeholders are prepared once per (name, size) and cached.
 */

export interface SceneEntry {
  tile: Tile;
  name: string;
  highlight: boolean;
  /** The frame to show (exactly tile.width x tile.height), or null for the placeholder. */
  frame: () => Buffer | null;
}

export const COLORS = {
  background: rgbToYuv(18, 18, 22),
  placeholder: rgbToYuv(58, 62, 72),
  labelBox: rgbToYuv(0, 0, 0),
  highlight: rgbToYuv(255, 200, 0),
};
const WHITE_Y = 235;

export class Composer {
  private entries: SceneEntry[] = [];
  private readonly background: YuvImage;
  private readonly labels = new Map<string, YuvImage | 'pending'>();
  private readonly placeholders = new Map<string, YuvImage | 'pending'>();

  constructor(
    readonly width: number,
    readonly height: number,
    private readonly logger: Logger,
  ) {
    this.background = newImage(width, height, COLORS.background);
  }

  /** Bumped on every scene change: a canvas drawn for the current scene keeps its background. */
  private sceneVersion = 0;
  private readonly drawnVersion = new WeakMap<YuvImage, number>();

  setScene(entries: SceneEntry[]): void {
    this.entries = entries;
    this.sceneVersion++;
    for (const e of entries) {
      this.ensureLabel(e.name, e.tile);
      this.ensurePlaceholder(e.name, e.tile);
    }
  }

  /** Draw one frame into `out` (a canvas-sized image). */
  compose(out: YuvImage): void {
    // Tiles, labels and borders are redrawn every frame over the same areas; the background
    // between them only changes with the scene, so the full-canvas copy happens once per canvas
    // per scene, not per frame.
    if (this.drawnVersion.get(out) !== this.sceneVersion) {
      this.background.data.copy(out.data);
      this.drawnVersion.set(out, this.sceneVersion);
    }
    for (const e of this.entries) {
      const t = e.tile;
      const f = e.frame();
      if (f) {
        blit(out, f, t.width, t.height, t.x, t.y);
      } else {
        const p = this.placeholders.get(placeholderKey(e.name, t));
        if (p && p !== 'pending') blit(out, p.data, p.width, p.height, t.x, t.y);
        else fillRect(out, t.x, t.y, t.width, t.height, COLORS.placeholder);
      }
      const l = this.labels.get(labelKey(e.name, t));
      if (l && l !== 'pending') {
        const m = labelMargin(t);
        blit(out, l.data, l.width, l.height, t.x + m, t.y + t.height - l.height - m);
      }
      if (e.highlight) border(out, t, Math.max(2, 2 * Math.round(t.height / 120)), COLORS.highlight);
    }
  }

  private ensureLabel(name: string, t: Tile): void {
    const key = labelKey(name, t);
    if (this.labels.has(key)) return;
    this.labels.set(key, 'pending');
    const size = labelFont(t);
    renderText(name, size, this.logger).then(
      (mask) => this.labels.set(key, labelImage(mask, t.width - 2 * labelMargin(t))),
      (err: unknown) => this.logger.warn({ err: String(err) }, 'label render failed'),
    );
  }

  private ensurePlaceholder(name: string, t: Tile): void {
    const key = placeholderKey(name, t);
    if (this.placeholders.has(key)) return;
    this.placeholders.set(key, 'pending');
    const size = Math.max(12, 2 * Math.round(t.height / 6));
    renderText(initials(name), size, this.logger).then(
      (mask) => {
        const img = newImage(t.width, t.height, COLORS.placeholder);
        drawMask(
          img,
          mask.data,
          mask.width,
          mask.height,
          Math.round((t.width - mask.width) / 2),
          Math.round((t.height - mask.height) / 2),
          WHITE_Y,
        );
        this.placeholders.set(key, img);
      },
      (err: unknown) => this.logger.warn({ err: String(err) }, 'placeholder render failed'),
    );
  }

  /** Drop cached images no current tile uses (participants left, sizes changed). */
  prune(): void {
    const keepL = new Set(this.entries.map((e) => labelKey(e.name, e.tile)));
    const keepP = new Set(this.entries.map((e) => placeholderKey(e.name, e.tile)));
    for (const k of this.labels.keys())
      if (!keepL.has(k) && this.labels.get(k) !== 'pending') this.labels.delete(k);
    for (const k of this.placeholders.keys())
      if (!keepP.has(k) && this.placeholders.get(k) !== 'pending') this.placeholders.delete(k);
  }
}

const labelFont = (t: Tile): number => Math.max(10, Math.min(28, 2 * Math.round(t.height / 28)));
const labelMargin = (t: Tile): number => Math.max(2, 2 * Math.round(t.height / 80));
const labelKey = (name: string, t: Tile): string => `${labelFont(t)}:${t.width}:${name}`;
const placeholderKey = (name: string, t: Tile): string => `${t.width}x${t.height}:${name}`;

/** A dark box with the name in white, clipped to `maxWidth`. */
function labelImage(mask: TextMask, maxWidth: number): YuvImage {
  const pad = 2 * Math.round(mask.height / 6);
  const w = Math.max(2, Math.min(2 * Math.floor(maxWidth / 2), mask.width + 2 * pad));
  const h = mask.height;
  const img = newImage(w, h, COLORS.labelBox);
  drawMask(img, mask.data, mask.width, mask.height, pad, 0, WHITE_Y);
  return img;
}

function border(out: YuvImage, t: Tile, th: number, c: Yuv): void {
  fillRect(out, t.x, t.y, t.width, th, c);
  fillRect(out, t.x, t.y + t.height - th, t.width, th, c);
  fillRect(out, t.x, t.y, th, t.height, c);
  fillRect(out, t.x + t.width - th, t.y, th, t.height, c);
}
