import { promisify } from 'node:util';
import ffmpeg from 'fluent-ffmpeg';

const ffprobeAsync = promisify(ffmpeg.ffprobe) as (
  file: string,
  opts: string[],
) => Promise<ffmpeg.FfprobeData>;

export interface ProbedStream {
  codecType: string;
  codecName: string;
  width?: number;
  height?: number;
  frames?: number;
  avgFrameRate?: string;
}

/** ffprobe with -count_frames: what a decoder actually gets out of the file/URL. */
export async function probe(
  input: string,
  countFrames = true,
): Promise<{ streams: ProbedStream[]; duration?: number }> {
  const data = await ffprobeAsync(input, countFrames ? ['-count_frames'] : []);
  return {
    duration: data.format.duration,
    streams: data.streams.map((s) => ({
      codecType: s.codec_type ?? '',
      codecName: s.codec_name ?? '',
      width: s.width,
      height: s.height,
      frames: s.nb_read_frames && s.nb_read_frames !== 'N/A' ? Number(s.nb_read_frames) : undefined,
      avgFrameRate: s.avg_frame_rate,
    })),
  };
}
