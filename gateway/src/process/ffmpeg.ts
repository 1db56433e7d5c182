import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const FFMPEG = process.env.ROOMCAST_FFMPEG_PATH ?? 'ffmpeg';
export const FFPROBE = process.env.ROOMCAST_FFPROBE_PATH ?? 'ffprobe';

/** The ffmpeg version string ("5.1.9-0+deb12u1"), or null when ffmpeg is not found. */
export async function ffmpegVersion(): Promise<string | null> {
  try {
    const { stdout } = await execFileAsync(FFMPEG, ['-hide_banner', '-version'], { timeout: 5000 });
    const m = /ffmpeg version (\S+)/.exec(stdout);
    return m?.[1] ?? null;
  } catch {
    return null;
  }
}
