import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { FFMPEG } from '../../gateway/src/process/ffmpeg.ts';
import { layout } from '../../gateway/src/compositor/layout.ts';
import { colorClose, rgbFrame, type RgbFrame } from './rtmp-receiver.ts';

const execFileAsync = promisify(execFile);

/** ffmpeg arguments that read the first frame of a live HLS playlist's newest segment. */
const newestFrameInput = (playlistUrl: string): string[] => [
  '-hide_banner',
  '-loglevel',
  'error',
  '-live_start_index',
  '-1',
  '-i',
  playlistUrl,
  '-frames:v',
  '1',
];

/** One decoded frame of a live HLS playlist (its newest segment), as rgb24 scaled to width x height. */
export async function hlsFrame(playlistUrl: string, width: number, height: number): Promise<RgbFrame> {
  const { stdout } = await execFileAsync(
    FFMPEG,
    [
      ...newestFrameInput(playlistUrl),
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-s',
      `${width}x${height}`,
      'pipe:1',
    ],
    { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024, timeout: 20_000 },
  );
  if (stdout.length < width * height * 3) throw new Error(`no frame in ${playlistUrl}`);
  return rgbFrame(stdout, width, height);
}

/** Saves one frame of a live HLS playlist (its newest segment) as an image file (e.g. a .png screenshot). */
export async function saveHlsFrame(playlistUrl: string, file: string): Promise<void> {
  await execFileAsync(FFMPEG, [...newestFrameInput(playlistUrl), '-y', file], { timeout: 20_000 });
}

export type Rgb = [number, number, number];

/**
 * The colours seen in each tile of an n-participant grid (tile geometry from the pure layout
 * function): for every tile, the name of the expected colour its upper part shows at three
 * points clear of the name label, or the pixel seen if it matches none of them.
 */
export function gridTileColours(frame: RgbFrame, n: number, colours: Record<string, Rgb>): string[] {
  const items = Array.from({ length: n }, (_, i) => ({
    id: `t${i}`,
    participantId: `t${i}`,
    kind: 'camera' as const,
  }));
  const tiles = layout(items, 'grid', { width: frame.width, height: frame.height });
  return tiles.map((t) => {
    const seen = (
      [
        [0.5, 0.3],
        [0.25, 0.25],
        [0.75, 0.4],
      ] as const
    ).map(([fx, fy]) => frame.pixel(t.x + t.width * fx, t.y + t.height * fy));
    const match = Object.entries(colours).find(([, c]) => seen.every((px) => colorClose(px, c)));
    return match ? match[0] : `rgb(${seen[0]!.join(',')})`;
  });
}
