/**
 * Parser for ffmpeg `-progress pipe:1` output: blocks of key=value lines, each ending with
 * `progress=continue` or `progress=end`. Pure; fed with stdout chunks.
 */
export interface ProgressReport {
  /** Bytes written to the output so far. */
  totalSize: number;
  /** Media time written, microseconds. */
  outTimeUs: number;
  frames: number;
  dropFrames: number;
  end: boolean;
}

export class ProgressParser {
  private partial = '';
  private block = new Map<string, string>();

  /** Returns the reports completed by this chunk. */
  push(chunk: string): ProgressReport[] {
    const out: ProgressReport[] = [];
    this.partial += chunk;
    const lines = this.partial.split(/\r?\n/);
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const eq = line.indexOf('=');
      if (eq <= 0) continue;
      const k = line.slice(0, eq).trim();
      const v = line.slice(eq + 1).trim();
      if (k === 'progress') {
        out.push({
          totalSize: num(this.block.get('total_size')),
          outTimeUs: num(this.block.get('out_time_us') ?? this.block.get('out_time_ms')),
          frames: num(this.block.get('frame')),
          dropFrames: num(this.block.get('drop_frames')),
          end: v === 'end',
        });
        this.block = new Map();
      } else {
        this.block.set(k, v);
      }
    }
    return out;
  }
}

function num(v: string | undefined): number {
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
