import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { types as ms } from 'mediasoup';
import { OwnedProcess } from '../../gateway/src/process/owned-process.ts';
import { FFMPEG } from '../../gateway/src/process/ffmpeg.ts';
import { consumeToRtp } from '../../gateway/src/rooms/plain-rtp-consumer.ts';
import type {
  ConsumedTrack,
  ParticipantInfo,
  RoomSource,
  RoomSourceEvents,
  RtpDestination,
  TrackInfo,
  TrackSource,
} from '../../gateway/src/rooms/room-source.ts';
import { silentLogger, startSyntheticSender, type SyntheticProducers } from './synthetic.ts';

/**
 * A RoomSource over a real mediasoup router whose participants are ffmpeg RTP senders. Their
 * clips are encoded ONCE per machine (cached under os.tmpdir() keyed by the parameters: live VP8
 * encoding of 4 senders starves a 2-core box) and replayed in a loop with `-re -c copy`.
 * GOP 1 s, because ffmpeg senders ignore keyframe requests.
 */

export type Rgb = [number, number, number];

export interface ClipSpec {
  color: Rgb;
  toneHz: number;
  width?: number;
  height?: number;
  fps?: number;
  /** Flash a white box and beep at the same instant every 2 s (A/V sync measurement). */
  flash?: boolean;
  /** A moving test pattern instead of the solid colour (camera-like encoder load in benchmarks). */
  pattern?: boolean;
}

const CLIP_SECONDS = 10;

async function runFfmpeg(args: string[], name: string): Promise<void> {
  const p = new OwnedProcess({ name, command: FFMPEG, args, logger: silentLogger });
  const exit = await p.waitForExit();
  if (exit.code !== 0) throw new Error(`${name} failed: ${exit.stderrTail.join('\n')}`);
}

/** Encodes `file` once (ffmpeg args end with the output path); cached across runs. */
async function encodeOnce(file: string, args: (out: string) => string[], name: string): Promise<void> {
  if (existsSync(file)) return;
  // Written under a temp name, then renamed: a concurrent run never reads half a clip.
  const tmp = `${file}.${process.pid}.tmp.mkv`;
  await runFfmpeg(args(tmp), name);
  renameSync(tmp, file);
}

const hex = (c: Rgb) => c.map((v) => v.toString(16).padStart(2, '0')).join('');

/** Pre-encoded VP8 (.mkv) and Opus (.mkv) clips for a spec; cached across runs. */
export async function ensureClips(spec: ClipSpec): Promise<{ video: string; audio: string }> {
  const w = spec.width ?? 320;
  const h = spec.height ?? 180;
  const fps = spec.fps ?? 30;
  const dir = path.join(tmpdir(), 'roomcast-clips-v1');
  mkdirSync(dir, { recursive: true });
  const key = `${spec.pattern ? 'pattern' : hex(spec.color)}_${w}x${h}_${fps}${spec.flash ? '_flash' : ''}`;
  const video = path.join(dir, `v_${key}.mkv`);
  const audio = path.join(dir, `a_${spec.toneHz}${spec.flash ? '_beep' : ''}.mkv`);
  {
    const flash = spec.flash
      ? [`-vf`, `drawbox=x=0:y=0:w=iw:h=ih/2:color=white:t=fill:enable='lt(mod(t,2),0.1)'`]
      : [];
    await encodeOnce(
      video,
      (tmp) => [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        spec.pattern
          ? `testsrc2=s=${w}x${h}:r=${fps}:d=${CLIP_SECONDS}`
          : `color=c=0x${hex(spec.color)}:s=${w}x${h}:r=${fps}:d=${CLIP_SECONDS}`,
        ...flash,
        '-c:v',
        'libvpx',
        '-deadline',
        'good',
        '-cpu-used',
        '4',
        '-b:v',
        '300k',
        '-g',
        String(fps),
        '-keyint_min',
        String(fps),
        '-pix_fmt',
        'yuv420p',
        '-an',
        tmp,
      ],
      'clip encode video',
    );
  }
  {
    const expr = spec.flash
      ? `aevalsrc='if(lt(mod(t,2),0.1),0.5*sin(2*PI*${spec.toneHz}*t),0)|if(lt(mod(t,2),0.1),0.5*sin(2*PI*${spec.toneHz}*t),0)':s=48000:d=${CLIP_SECONDS}`
      : `aevalsrc='0.3*sin(2*PI*${spec.toneHz}*t)|0.3*sin(2*PI*${spec.toneHz}*t)':s=48000:d=${CLIP_SECONDS}`;
    await encodeOnce(
      audio,
      (tmp) => [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        expr,
        '-c:a',
        'libopus',
        '-b:a',
        '64k',
        '-vn',
        tmp,
      ],
      'clip encode audio',
    );
  }
  return { video, audio };
}

interface SyntheticParticipant {
  info: ParticipantInfo;
  sender: SyntheticProducers;
  screen?: SyntheticProducers;
}

export interface JoinOptions extends ClipSpec {
  name: string;
  video?: boolean;
  audio?: boolean;
}

export class SyntheticRoom extends EventEmitter<RoomSourceEvents> implements RoomSource {
  private readonly members = new Map<string, SyntheticParticipant>();
  private speaker: string | null = null;
  private isClosed = false;
  private readonly consumed = new Set<ConsumedTrack>();

  constructor(
    private readonly router: ms.Router,
    readonly name = 'synthetic',
  ) {
    super();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  participants(): ParticipantInfo[] {
    return [...this.members.values()].map((m) => structuredClone(m.info));
  }

  activeSpeaker(): string | null {
    return this.speaker;
  }

  async consume(trackId: string, destination: RtpDestination): Promise<ConsumedTrack> {
    const c = await consumeToRtp(this.router, trackId, destination);
    this.consumed.add(c);
    c.once('closed', () => this.consumed.delete(c));
    return c;
  }

  /** Open consumers right now (to check the livestream closes what it opened). */
  openConsumers(): number {
    return [...this.consumed].filter((c) => !c.closed).length;
  }

  async join(id: string, opts: JoinOptions): Promise<ParticipantInfo> {
    const clips = await ensureClips(opts);
    const sender = await startSyntheticSender({
      router: this.router,
      name: id,
      copy: true,
      videoInput: opts.video === false ? undefined : ['-stream_loop', '-1', '-i', clips.video],
      audioInput: opts.audio === false ? undefined : ['-stream_loop', '-1', '-i', clips.audio],
    });
    const tracks: TrackInfo[] = [];
    if (sender.video) tracks.push({ id: sender.video.id, kind: 'video', source: 'camera', paused: false });
    if (sender.audio) tracks.push({ id: sender.audio.id, kind: 'audio', source: 'mic', paused: false });
    const info: ParticipantInfo = { id, displayName: opts.name, tracks, excludedFromStream: false };
    this.members.set(id, { info, sender });
    this.emit('participantJoined', structuredClone(info));
    return info;
  }

  async leave(id: string): Promise<void> {
    const m = this.members.get(id);
    if (!m) return;
    this.members.delete(id);
    if (this.speaker === id) this.setActiveSpeaker(null);
    this.emit('participantLeft', id);
    await m.screen?.close();
    await m.sender.close();
  }

  async shareScreen(id: string, spec: ClipSpec): Promise<TrackInfo> {
    const m = this.members.get(id);
    if (!m) throw new Error(`no participant ${id}`);
    const clips = await ensureClips(spec);
    m.screen = await startSyntheticSender({
      router: this.router,
      name: `${id} screen`,
      copy: true,
      videoInput: ['-stream_loop', '-1', '-i', clips.video],
    });
    const track: TrackInfo = { id: m.screen.video!.id, kind: 'video', source: 'screen', paused: false };
    m.info.tracks.push(track);
    this.emit('trackAdded', id, { ...track });
    return track;
  }

  async stopScreen(id: string): Promise<void> {
    const m = this.members.get(id);
    if (!m?.screen) return;
    const trackId = m.screen.video!.id;
    m.info.tracks = m.info.tracks.filter((t) => t.id !== trackId);
    this.emit('trackRemoved', id, trackId);
    await m.screen.close();
    m.screen = undefined;
  }

  private track(id: string, source: TrackSource): { m: SyntheticParticipant; t: TrackInfo } {
    const m = this.members.get(id);
    const t = m?.info.tracks.find((x) => x.source === source);
    if (!m || !t) throw new Error(`no ${source} track for ${id}`);
    return { m, t };
  }

  async pause(id: string, source: TrackSource): Promise<void> {
    const { m, t } = this.track(id, source);
    const producer = t.kind === 'video' ? m.sender.video : m.sender.audio;
    await producer?.pause();
    t.paused = true;
    this.emit('trackPaused', id, t.id);
  }

  async resume(id: string, source: TrackSource): Promise<void> {
    const { m, t } = this.track(id, source);
    const producer = t.kind === 'video' ? m.sender.video : m.sender.audio;
    await producer?.resume();
    t.paused = false;
    this.emit('trackResumed', id, t.id);
  }

  setExcluded(id: string, excluded: boolean): void {
    const m = this.members.get(id);
    if (!m) return;
    m.info.excludedFromStream = excluded;
    this.emit('participantUpdated', structuredClone(m.info));
  }

  setActiveSpeaker(id: string | null): void {
    this.speaker = id;
    this.emit('activeSpeakerChanged', id);
  }

  /** Sender processes (for CPU accounting exclusions in the benchmark). */
  senderPids(): number[] {
    const pids: number[] = [];
    for (const m of this.members.values()) {
      if (m.sender.sender.pid) pids.push(m.sender.sender.pid);
      if (m.screen?.sender.pid) pids.push(m.screen.sender.pid);
    }
    return pids;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const id of [...this.members.keys()]) await this.leave(id);
    for (const c of this.consumed) c.close();
    this.emit('closed', 'test room closed');
  }
}
