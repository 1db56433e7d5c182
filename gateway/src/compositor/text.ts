import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OwnedProcess } from '../process/owned-process.ts';
import { FFMPEG } from '../process/ffmpeg.ts';
import type { Logger } from '../log/logger.ts';

/**
 * Text (name labels, initials) is rendered ONCE per (text, size) by an ffmpeg drawtext run into
 * an 8-bit coverage mask, then cached. Frames never render text: they copy prepared images.
 * The text goes through a file (`textfile=`, `expansion=none`) so display names need no escaping
 * and cannot inject filter syntax.
 */
export interface TextMask {
  width: number;
  height: number;
  data: Uint8Array;
}

const cache = new Map<string, Promise<TextMask>>();
const MAX_CACHE = 500;

export function renderText(text: string, fontSize: number, logger: Logger): Promise<TextMask> {
  const key = `${fontSize}\u0000${text}`;
  let p = cache.get(key);
  if (!p) {
    p = render(text, fontSize, logger).catch((err: unknown) => {
      cache.delete(key);
      throw err;
    });
    if (cache.size >= MAX_CACHE) cache.delete(cache.keys().next().value as string);
    cache.set(key, p);
  }
  return p;
}

async function render(text: string, fontSize: number, logger: Logger): Promise<TextMask> {
  const h = 2 * Math.ceil((fontSize * 1.4) / 2);
  const w = 2 * Math.ceil((fontSize * Math.max(1, text.length) * 0.75 + fontSize) / 2);
  const dir = await mkdtemp(path.join(tmpdir(), 'roomcast-text-'));
  try {
    const file = path.join(dir, 't.txt');
    await writeFile(file, text);
    const proc = new OwnedProcess({
      name: 'text render',
      command: FFMPEG,
      args: [
        '-hide_banner',
        '-loglevel',
        'error',
        '-nostdin',
        '-f',
        'lavfi',
        '-i',
        `color=c=black:s=${w}x${h}:r=1`,
        '-vf',
        `drawtext=textfile=${file}:expansion=none:fontcolor=white:fontsize=${fontSize}:x=0:y=(h-th)/2`,
        '-frames:v',
        '1',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'gray',
        'pipe:1',
      ],
      logger,
    });
    const chunks: Buffer[] = [];
    proc.child.stdout?.on('data', (c: Buffer) => chunks.push(c));
    const exit = await proc.waitForExit();
    const raw = Buffer.concat(chunks);
    if (exit.code !== 0 || raw.length < w * h) {
      throw new Error(`text render failed: ${exit.stderrTail.join(' | ')}`);
    }
    // Trim to the used width so labels are as wide as the name.
    let used = 0;
    for (let x = w - 1; x >= 0 && used === 0; x--) {
      for (let y = 0; y < h; y++) {
        if (raw[y * w + x]! > 0) {
          used = x + 1;
          break;
        }
      }
    }
    const tw = Math.max(2, 2 * Math.ceil(used / 2));
    const data = new Uint8Array(tw * h);
    for (let y = 0; y < h; y++) data.set(raw.subarray(y * w, y * w + Math.min(tw, w)), y * tw);
    return { width: tw, height: h, data };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** "Ada Lovelace" → "AL", "bob" → "B". */
export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = [...(parts[0] ?? '?')][0] ?? '?';
  const last = parts.length > 1 ? ([...parts[parts.length - 1]!][0] ?? '') : '';
  return (first + last).toUpperCase();
}
