import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from '../log/logger.ts';
import { redactText } from '../log/logger.ts';
import type { OutputConfig } from '../config/schema.ts';
import type {
  ConsumedTrack,
  ParticipantInfo,
  RoomSource,
  RoomSourceEvents,
  TrackInfo,
} from '../rooms/room-source.ts';
import {
  layout,
  type LayoutItem,
  type LayoutMode,
  type LayoutModeSetting,
  type Tile,
} from '../compositor/layout.ts';
import { autoLayout, initialAutoState, type AutoState } from '../compositor/auto-layout.ts';
import { BLOCK_BYTES, BLOCK_SAMPLES, CHANNELS, mixInto } from '../compositor/audio-mix.ts';
import { Composer, type SceneEntry } from '../compositor/composer.ts';
import { AudioDecoder, VideoDecoder } from '../compositor/decoder.ts';
import { Encoder } from '../compositor/encoder.ts';
import { newImage, scaleNearest, type YuvImage } from '../compositor/yuv.ts';
import { allocatePortPair, releasePortPair } from './udp-ports.ts';
import { processCpuSeconds } from './proc-stats.ts';

/**
 * A livestream of one room: the gateway consumes every participant's tracks server-side (hidden:
 * never a signaling peer), decodes each track in its own ffmpeg, composes the picture and mixes
 * the sound on its own output clock, and feeds ONE long-lived encoder ffmpeg that publishes RTMP.
 * Joins, leaves, mutes, shares and layout switches only change the input side, so the RTMP
 * session and its timestamps never break. Only an encoder/RTMP failure starts a new session
 * (state `reconnecting`, with backoff).
 */

export type LivestreamState = 'idle' | 'starting' | 'live' | 'reconnecting' | 'stopped' | 'failed';

export interface LivestreamOptions {
  source: RoomSource;
  /** rtmp://host/app/KEY — the key is secret: this URL is never logged unredacted. */
  rtmpUrl: string;
  output: OutputConfig;
  layout?: LayoutModeSetting;
  logger: Logger;
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number; maxAttempts?: number };
}

export interface LivestreamEvents {
  /** Every state change, with why (for `reconnecting`, `stopped`, `failed`). */
  state: [state: LivestreamState, reason: string | undefined];
  /** The layout actually shown changed (auto resolves to one of these). */
  layout: [mode: LayoutMode];
}

export interface ParticipantStats {
  id: string;
  name: string;
  /** ms from livestream start to the first decoded video frame / PCM of this participant. */
  firstVideoFrameMs: number | null;
  firstAudioMs: number | null;
  videoFramesReceived: number;
  videoFramesDropped: number;
  videoFramesRepeated: number;
  audioUnderflows: number;
  decoderRestarts: number;
}

export interface LivestreamStats {
  state: LivestreamState;
  layout: LayoutMode;
  /** Output frames handed to the encoder(s) since start. */
  framesOut: number;
  audioBlocksOut: number;
  /** Output frames written as a copy of the previous one (clock catch-up, encoder backlog). */
  duplicatedFrames: number;
  /** Output frames not written because the encoder was too far behind. */
  droppedFrames: number;
  encoderRestarts: number;
  /** Frames the current encoder session reports as encoded (its progress line, every 0.5 s). */
  encoderFrames: number;
  /** ms from start() to the encoder's first reported output frame (first session). */
  firstOutputFrameMs: number | null;
  participants: ParticipantStats[];
  processes: { name: string; pid: number }[];
}

interface VideoInput {
  decoder: VideoDecoder | null;
  /** The last frame of a replaced decoder, scaled once to the new size, shown until the new one delivers. */
  frozen: { buf: Buffer; width: number; height: number } | null;
  fit: 'cover' | 'contain';
  /** A replaced decoder still releasing the UDP port; nothing new spawns until it has exited. */
  stopping: Promise<unknown> | null;
  /** The tile size wanted now (the spawn after `stopping` uses the latest). */
  want: { width: number; height: number } | null;
}

interface TrackInput {
  participantId: string;
  track: TrackInfo;
  consumed: ConsumedTrack | null;
  port: number;
  video?: VideoInput;
  audio?: { decoder: AudioDecoder | null };
  restarts: number;
  restartTimer: NodeJS.Timeout | null;
  keyframeTimer: NodeJS.Timeout | null;
  closed: boolean;
}

interface Participant {
  info: ParticipantInfo;
  inputs: Map<string, TrackInput>;
  firstVideoAt: number;
  firstAudioAt: number;
  decoderRestarts: number;
}

const CANVAS_POOL = 8;
const AUDIO_POOL = 32;
const BLOCK_MS = (BLOCK_SAMPLES / 48_000) * 1000;
const RECEIVER_BIND_MS = 250;

export class Livestream extends EventEmitter<LivestreamEvents> {
  private stateValue: LivestreamState = 'idle';
  private readonly output: OutputConfig;
  private readonly source: RoomSource;
  private readonly logger: Logger;
  private readonly url: string;
  private layoutSetting: LayoutModeSetting;
  private shownMode: LayoutMode = 'grid';
  private autoState: AutoState = initialAutoState(performance.now());
  private readonly participants = new Map<string, Participant>();
  private readonly composer: Composer;
  private dir = '';
  private encoder: Encoder | null = null;
  private encoderAttempts = 0;
  private sourceInterrupted = false;
  private encoderTimer: NodeJS.Timeout | null = null;
  private clockTimer: NodeJS.Timeout | null = null;
  private autoTimer: NodeJS.Timeout | null = null;
  private spawnChain: Promise<void> = Promise.resolve();
  private t0 = 0;
  private startedAt = 0;
  private framesOut = 0;
  private blocksOut = 0;
  private duplicated = 0;
  private dropped = 0;
  private encoderRestarts = 0;
  private firstOutputAt = -1;
  private readonly canvases: YuvImage[];
  private lastCanvas: YuvImage | null = null;
  private readonly audioBlocks: { buf: Buffer; samples: Int16Array }[];
  private audioBlockIdx = 0;
  private readonly audioInFlight = new Set<Buffer>();
  private readonly mixScratch = new Float32Array(BLOCK_SAMPLES * CHANNELS);
  /** Per-source scratch blocks (typed views made once, not per 20 ms block). */
  private readonly inputBlocks: { samples: Int16Array; bytes: Uint8Array }[] = [];
  private readonly mixInputs: Int16Array[] = [];
  private readonly unsubscribe: (() => void)[] = [];

  constructor(opts: LivestreamOptions) {
    super();
    this.source = opts.source;
    this.output = opts.output;
    this.url = opts.rtmpUrl;
    this.logger = opts.logger.child({ livestream: opts.source.name });
    this.layoutSetting = opts.layout ?? 'auto';
    this.reconnect = {
      initialDelayMs: opts.reconnect?.initialDelayMs ?? 250,
      maxDelayMs: opts.reconnect?.maxDelayMs ?? 10_000,
      maxAttempts: opts.reconnect?.maxAttempts ?? 20,
    };
    this.composer = new Composer(opts.output.width, opts.output.height, this.logger);
    this.canvases = Array.from({ length: CANVAS_POOL }, () =>
      newImage(opts.output.width, opts.output.height),
    );
    this.audioBlocks = Array.from({ length: AUDIO_POOL }, () => {
      const buf = Buffer.alloc(BLOCK_BYTES);
      return { buf, samples: new Int16Array(buf.buffer, buf.byteOffset, BLOCK_SAMPLES * CHANNELS) };
    });
  }

  private readonly reconnect: { initialDelayMs: number; maxDelayMs: number; maxAttempts: number };

  get state(): LivestreamState {
    return this.stateValue;
  }

  /** The layout currently shown (auto resolved). */
  get layout(): LayoutMode {
    return this.shownMode;
  }

  get layoutSettingValue(): LayoutModeSetting {
    return this.layoutSetting;
  }

  /**
   * Starts the encoder at once (black + silence pre-roll, so the RTMP session opens while the
   * decoders warm up), then consumes the room. Resolves once everything is launched; watch
   * `state` for `live`.
   */
  async start(): Promise<void> {
    if (this.stateValue !== 'idle') throw new Error(`livestream already ${this.stateValue}`);
    this.setState('starting');
    this.startedAt = performance.now();
    this.dir = mkdtempSync(path.join(tmpdir(), 'roomcast-live-'));
    this.startEncoder();
    this.startClock();
    this.subscribe();
    for (const p of this.source.participants()) this.addParticipant(p);
    this.relayout();
    this.autoTimer = setInterval(() => this.updateAuto(), 500);
  }

  /** Stops everything this livestream owns (encoder, decoders, consumers). Idempotent. */
  async stop(reason = 'requested'): Promise<void> {
    if (this.stateValue === 'stopped' || this.stateValue === 'failed') return;
    await this.teardown();
    this.setState('stopped', reason);
  }

  setLayout(mode: LayoutModeSetting): void {
    this.layoutSetting = mode;
    this.relayout();
  }

  // ---------------------------------------------------------------- state

  private setState(s: LivestreamState, reason?: string): void {
    if (s === this.stateValue) return;
    this.stateValue = s;
    this.logger.info({ state: s, reason }, 'livestream state');
    this.emit('state', s, reason);
  }

  private async teardown(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    if (this.clockTimer) clearTimeout(this.clockTimer);
    if (this.autoTimer) clearInterval(this.autoTimer);
    if (this.encoderTimer) clearTimeout(this.encoderTimer);
    this.clockTimer = this.autoTimer = this.encoderTimer = null;
    const stops: Promise<unknown>[] = [];
    for (const p of this.participants.values()) {
      for (const input of p.inputs.values()) stops.push(this.closeInput(input));
    }
    this.participants.clear();
    const enc = this.encoder;
    this.encoder = null;
    if (enc) stops.push(enc.stop());
    await Promise.allSettled(stops);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  // ---------------------------------------------------------------- encoder

  private startEncoder(): void {
    const enc = new Encoder(this.output, this.url, `encoder ${this.source.name}`, this.logger);
    this.encoder = enc;
    this.inFlight.clear();
    enc.on('live', () => {
      if (this.encoder !== enc) return;
      this.encoderAttempts = 0;
      if (this.firstOutputAt < 0) this.firstOutputAt = enc.liveAt;
      if (this.sourceInterrupted) return;
      if (this.stateValue === 'starting' || this.stateValue === 'reconnecting') this.setState('live');
    });
    enc.on('exit', (info) => {
      if (this.encoder !== enc) return;
      this.encoder = null;
      if (this.stateValue === 'stopped' || this.stateValue === 'failed') return;
      const why = redactText(
        `encoder exited (code ${info.code}, signal ${info.signal}): ${info.stderrTail.slice(-3).join(' | ')}`,
      );
      this.encoderAttempts++;
      if (this.encoderAttempts > this.reconnect.maxAttempts) {
        void this.teardown().then(() => this.setState('failed', why));
        return;
      }
      this.setState('reconnecting', why);
      const delay = Math.min(
        this.reconnect.maxDelayMs,
        this.reconnect.initialDelayMs * 2 ** Math.max(0, this.encoderAttempts - 1),
      );
      this.encoderTimer = setTimeout(() => {
        this.encoderTimer = null;
        if (this.stateValue !== 'reconnecting') return;
        this.encoderRestarts++;
        this.startEncoder();
      }, delay);
    });
  }

  // ---------------------------------------------------------------- output clock

  private startClock(): void {
    this.t0 = performance.now();
    const tick = () => {
      this.clockTimer = null;
      if (this.stateValue === 'stopped' || this.stateValue === 'failed') return;
      const now = performance.now();
      const elapsed = now - this.t0;
      const wantFrames = Math.floor((elapsed * this.output.fps) / 1000) + 1;
      const wantBlocks = Math.floor(elapsed / BLOCK_MS) + 1;
      // Audio first: it is cheap and the encoder interleaves by timestamp anyway.
      while (this.blocksOut < wantBlocks) this.writeAudioBlock();
      if (this.framesOut < wantFrames) {
        // Late by more than one frame (event-loop stall): compose once, repeat it for the rest,
        // so the frame count (= the timestamps) stays exact.
        this.writeVideoFrame(true);
        while (this.framesOut < wantFrames) this.writeVideoFrame(false);
      }
      const nextFrame = this.t0 + (this.framesOut * 1000) / this.output.fps;
      const nextBlock = this.t0 + this.blocksOut * BLOCK_MS;
      this.clockTimer = setTimeout(tick, Math.max(1, Math.min(nextFrame, nextBlock) - performance.now()));
    };
    tick();
  }

  private writeVideoFrame(compose: boolean): void {
    this.framesOut++;
    // A canvas is reusable once the encoder pipe has consumed it (write callback) — bounded
    // memory while the encoder starts up (prototype trap 3) without touching the timeline.
    let canvas = compose
      ? (this.canvases.find((c) => c !== this.lastCanvas && !this.inFlight.has(c)) ?? null)
      : null;
    if (canvas) {
      this.composer.compose(canvas);
      this.lastCanvas = canvas;
    } else {
      this.tickSourcesOnly();
      canvas = this.lastCanvas;
      if (!canvas) return;
      this.duplicated++;
    }
    const enc = this.encoder;
    if (!enc || !enc.running) return;
    if (enc.video.writableLength > canvas.data.length * this.output.fps * 2) {
      this.dropped++; // encoder more than 2 s behind: do not grow memory without bound
      return;
    }
    const c = canvas;
    this.inFlight.set(c, (this.inFlight.get(c) ?? 0) + 1);
    enc.video.write(c.data, () => {
      const n = (this.inFlight.get(c) ?? 1) - 1;
      if (n > 0) this.inFlight.set(c, n);
      else this.inFlight.delete(c);
    });
  }

  private readonly inFlight = new Map<YuvImage, number>();

  /** Advance each source by one frame without drawing (keeps FIFOs in step when repeating). */
  private tickSourcesOnly(): void {
    for (const p of this.participants.values()) {
      for (const i of p.inputs.values()) i.video?.decoder?.frames.next();
    }
  }

  private writeAudioBlock(): void {
    this.blocksOut++;
    const inputs = this.mixInputs;
    inputs.length = 0;
    let k = 0;
    for (const p of this.participants.values()) {
      for (const input of p.inputs.values()) {
        const dec = input.audio?.decoder;
        if (!dec) continue;
        if (input.track.paused) {
          dec.pcm.clear();
          continue;
        }
        if (!this.inputBlocks[k]) {
          const samples = new Int16Array(BLOCK_SAMPLES * CHANNELS);
          this.inputBlocks[k] = { samples, bytes: new Uint8Array(samples.buffer) };
        }
        const block = this.inputBlocks[k]!;
        if (dec.pcm.readBlock(block.bytes)) {
          inputs.push(block.samples);
          k++;
        }
      }
    }
    const enc = this.encoder;
    if (!enc || !enc.running) return;
    let block = this.audioBlocks[this.audioBlockIdx]!;
    this.audioBlockIdx = (this.audioBlockIdx + 1) % AUDIO_POOL;
    if (this.audioInFlight.has(block.buf)) {
      // Pool exhausted (encoder stalled): a fresh block rather than overwriting queued sound.
      const fresh = Buffer.alloc(BLOCK_BYTES);
      block = {
        buf: fresh,
        samples: new Int16Array(fresh.buffer, fresh.byteOffset, BLOCK_SAMPLES * CHANNELS),
      };
    }
    mixInto(block.samples, inputs, this.mixScratch);
    const buf = block.buf;
    this.audioInFlight.add(buf);
    enc.audio.write(buf, () => this.audioInFlight.delete(buf));
  }

  // ---------------------------------------------------------------- room events

  private subscribe(): void {
    const s = this.source;
    const on = <K extends keyof RoomSourceEvents>(ev: K, fn: (...args: RoomSourceEvents[K]) => void) => {
      const l = fn as (...a: unknown[]) => void;
      (s as EventEmitter).on(ev, l);
      this.unsubscribe.push(() => (s as EventEmitter).off(ev, l));
    };
    on('participantJoined', (p) => {
      this.addParticipant(p);
      this.relayout();
    });
    on('participantLeft', (id) => {
      this.removeParticipant(id);
      this.relayout();
    });
    on('participantUpdated', (info) => this.updateParticipant(info));
    on('trackAdded', (pid, track) => {
      const p = this.participants.get(pid);
      if (!p) return;
      p.info = { ...p.info, tracks: [...p.info.tracks.filter((t) => t.id !== track.id), track] };
      if (!p.info.excludedFromStream) this.addTrack(p, track);
      this.relayout();
    });
    on('trackRemoved', (pid, trackId) => {
      const p = this.participants.get(pid);
      if (!p) return;
      p.info = { ...p.info, tracks: p.info.tracks.filter((t) => t.id !== trackId) };
      const input = p.inputs.get(trackId);
      if (input) {
        p.inputs.delete(trackId);
        void this.closeInput(input);
      }
      this.relayout();
    });
    on('trackPaused', (pid, trackId) => this.setPaused(pid, trackId, true));
    on('trackResumed', (pid, trackId) => this.setPaused(pid, trackId, false));
    on('activeSpeakerChanged', () => {
      this.updateAuto();
      this.relayout();
    });
    on('closed', (reason) => void this.stop(`room closed: ${reason}`));
    // Sidecar rooms: the link to the hosting app dropped. The output keeps running (tiles hold
    // or show placeholders) but viewers of the state should know: `reconnecting` until restored.
    on('interrupted', (reason) => {
      this.sourceInterrupted = true;
      if (this.stateValue === 'live' || this.stateValue === 'starting') {
        this.setState('reconnecting', `room link lost: ${reason}`);
      }
    });
    on('restored', () => {
      this.sourceInterrupted = false;
      if (this.stateValue === 'reconnecting' && this.encoder && this.encoder.liveAt >= 0)
        this.setState('live');
      this.relayout();
    });
  }

  private addParticipant(info: ParticipantInfo): void {
    if (this.participants.has(info.id)) return;
    const p: Participant = {
      info,
      inputs: new Map(),
      firstVideoAt: -1,
      firstAudioAt: -1,
      decoderRestarts: 0,
    };
    this.participants.set(info.id, p);
    if (!info.excludedFromStream) for (const t of info.tracks) this.addTrack(p, t);
  }

  private removeParticipant(id: string): void {
    const p = this.participants.get(id);
    if (!p) return;
    this.participants.delete(id);
    for (const input of p.inputs.values()) void this.closeInput(input);
  }

  private updateParticipant(info: ParticipantInfo): void {
    const p = this.participants.get(info.id);
    if (!p) {
      this.addParticipant(info);
      this.relayout();
      return;
    }
    const wasExcluded = p.info.excludedFromStream;
    p.info = info;
    if (info.excludedFromStream && !wasExcluded) {
      // Opt-out takes effect at once: drop their pictures and sound before the next frame.
      for (const input of p.inputs.values()) void this.closeInput(input);
      p.inputs.clear();
    } else if (!info.excludedFromStream && wasExcluded) {
      for (const t of info.tracks) this.addTrack(p, t);
    }
    this.relayout();
  }

  private setPaused(pid: string, trackId: string, paused: boolean): void {
    const p = this.participants.get(pid);
    if (!p) return;
    p.info = { ...p.info, tracks: p.info.tracks.map((t) => (t.id === trackId ? { ...t, paused } : t)) };
    const input = p.inputs.get(trackId);
    if (input) {
      input.track = { ...input.track, paused };
      if (!paused) void input.consumed?.requestKeyFrame();
    }
    this.relayout();
  }

  // ---------------------------------------------------------------- tracks and decoders

  private addTrack(p: Participant, track: TrackInfo): void {
    if (p.inputs.has(track.id)) return;
    const input: TrackInput = {
      participantId: p.info.id,
      track,
      consumed: null,
      port: 0,
      restarts: 0,
      restartTimer: null,
      keyframeTimer: null,
      closed: false,
    };
    if (track.kind === 'video')
      input.video = {
        decoder: null,
        frozen: null,
        fit: track.source === 'screen' ? 'contain' : 'cover',
        stopping: null,
        want: null,
      };
    else input.audio = { decoder: null };
    p.inputs.set(track.id, input);
    void this.openInput(p, input).catch((err: unknown) => {
      this.logger.warn({ participant: p.info.id, track: track.id, err: String(err) }, 'consume failed');
      if (p.inputs.get(track.id) === input) p.inputs.delete(track.id);
      void this.closeInput(input);
    });
  }

  private async openInput(p: Participant, input: TrackInput): Promise<void> {
    input.port = await allocatePortPair();
    if (input.closed) return releasePortPair(input.port);
    const consumed = await this.source.consume(input.track.id, {
      ip: '127.0.0.1',
      port: input.port,
      rtcpPort: input.port + 1,
    });
    if (input.closed) {
      consumed.close();
      return;
    }
    input.consumed = consumed;
    consumed.on('closed', () => {
      const cur = p.inputs.get(input.track.id);
      if (cur === input) {
        p.inputs.delete(input.track.id);
        void this.closeInput(input);
        this.relayout();
      }
    });
    if (input.audio) {
      await this.spawnAudio(p, input);
    } else {
      this.relayout(); // sizes the tile, which spawns the video decoder
    }
    // The consumer was created paused so the decoder's socket is bound before RTP flows.
    await sleep(RECEIVER_BIND_MS);
    if (!input.closed) await consumed.start();
  }

  /** Spawns are serialised and spaced: 4 decoders at once stalled the event loop ~70 ms. */
  private staggered(fn: () => void): Promise<void> {
    this.spawnChain = this.spawnChain.then(async () => {
      fn();
      await sleep(40);
    });
    return this.spawnChain;
  }

  private spawnAudio(p: Participant, input: TrackInput): Promise<void> {
    return this.staggered(() => {
      if (input.closed || !input.audio || !this.isRunning()) return;
      const dec = new AudioDecoder({
        name: `audio decoder ${p.info.id}/${input.track.source}`,
        dir: this.dir,
        stream: input.consumed!.receive,
        logger: this.logger,
      });
      input.audio.decoder = dec;
      const poll = setInterval(() => {
        if (dec.pcm.firstAudioAt >= 0) {
          if (p.firstAudioAt < 0) p.firstAudioAt = dec.pcm.firstAudioAt;
          clearInterval(poll);
        }
      }, 100);
      dec.once('exit', (info) => {
        clearInterval(poll);
        if (input.audio?.decoder !== dec) return;
        input.audio.decoder = null;
        if (info.requested || input.closed) return;
        this.logger.warn({ participant: p.info.id, tail: info.stderrTail.slice(-3) }, 'audio decoder died');
        this.scheduleRestart(p, input, () => void this.spawnAudio(p, input));
      });
    });
  }

  /** (Re)start the video decoder of `input` at `w`x`h`; the old frame is held, scaled once. */
  private ensureVideoDecoder(p: Participant, input: TrackInput, w: number, h: number): void {
    const v = input.video;
    if (!v || !input.consumed || input.closed) return;
    v.want = { width: w, height: h };
    const cur = v.decoder;
    if (cur && cur.width === w && cur.height === h) return;
    if (cur) {
      const last = cur.frames.last();
      v.frozen = last ? { buf: scaleNearest(last, cur.width, cur.height, w, h), width: w, height: h } : null;
      this.retireVideoDecoder(p, input);
    } else if (!v.stopping) {
      void this.spawnVideo(p, input);
    }
  }

  /**
   * Stop the current video decoder. It listens on the track's UDP port, so the next decoder for
   * this track is spawned only once it has exited (then at the size wanted at that moment).
   */
  private retireVideoDecoder(p: Participant, input: TrackInput): void {
    const v = input.video;
    const d = v?.decoder;
    if (!v || !d) return;
    v.decoder = null;
    const stopping = d.stop().then(() => {
      if (v.stopping !== stopping) return;
      v.stopping = null;
      if (v.want && !input.closed) void this.spawnVideo(p, input);
    });
    v.stopping = stopping;
  }

  private spawnVideo(p: Participant, input: TrackInput): Promise<void> {
    return this.staggered(() => {
      const v = input.video;
      if (!v || !v.want || v.stopping || input.closed || !input.consumed || v.decoder || !this.isRunning())
        return;
      const { width: w, height: h } = v.want;
      const dec = new VideoDecoder({
        name: `video decoder ${p.info.id}/${input.track.source}`,
        dir: this.dir,
        stream: input.consumed.receive,
        width: w,
        height: h,
        fps: this.output.fps,
        fit: v.fit,
        logger: this.logger,
      });
      v.decoder = dec;
      // A decoder shows nothing until a keyframe: ask the sender once the socket is bound, and
      // again while nothing arrives (a lost PLI/FIR would otherwise leave the tile frozen).
      const askKeyframe = (attempt: number) => {
        input.keyframeTimer = setTimeout(
          () => {
            if (v.decoder !== dec || input.closed) return;
            if (dec.frames.received === 0) {
              void input.consumed?.requestKeyFrame();
              if (attempt < 10) askKeyframe(attempt + 1);
            } else if (p.firstVideoAt < 0) {
              p.firstVideoAt = dec.frames.firstFrameAt;
            }
          },
          attempt === 0 ? RECEIVER_BIND_MS : 700,
        );
      };
      askKeyframe(0);
      dec.once('exit', (info) => {
        if (v.decoder !== dec) return;
        v.decoder = null;
        v.frozen = null; // a dead decoder's tile shows the placeholder until it is back
        if (info.requested || input.closed) return;
        this.logger.warn({ participant: p.info.id, tail: info.stderrTail.slice(-3) }, 'video decoder died');
        this.scheduleRestart(p, input, () => this.relayout());
      });
    });
  }

  private scheduleRestart(p: Participant, input: TrackInput, restart: () => void): void {
    input.restarts++;
    p.decoderRestarts++;
    const delay = Math.min(5000, 200 * 2 ** Math.min(5, input.restarts - 1));
    input.restartTimer = setTimeout(() => {
      input.restartTimer = null;
      if (!input.closed && this.isRunning()) restart();
    }, delay);
  }

  private async closeInput(input: TrackInput): Promise<void> {
    if (input.closed) return;
    input.closed = true;
    if (input.restartTimer) clearTimeout(input.restartTimer);
    if (input.keyframeTimer) clearTimeout(input.keyframeTimer);
    input.consumed?.close();
    const stops: Promise<unknown>[] = [];
    if (input.video?.decoder) stops.push(input.video.decoder.stop());
    if (input.audio?.decoder) stops.push(input.audio.decoder.stop());
    if (input.video) {
      input.video.decoder = null;
      input.video.frozen = null;
    }
    if (input.audio) input.audio.decoder = null;
    await Promise.allSettled(stops);
    if (input.port) releasePortPair(input.port);
  }

  private isRunning(): boolean {
    return this.stateValue === 'starting' || this.stateValue === 'live' || this.stateValue === 'reconnecting';
  }

  // ---------------------------------------------------------------- layout

  private visibleItems(): LayoutItem[] {
    const items: LayoutItem[] = [];
    for (const p of this.participants.values()) {
      if (p.info.excludedFromStream) continue;
      items.push({ id: p.info.id, participantId: p.info.id, kind: 'camera' });
      const screen = [...p.inputs.values()].find((i) => i.track.source === 'screen' && !i.track.paused);
      if (screen) items.push({ id: `${p.info.id}:screen`, participantId: p.info.id, kind: 'screen' });
    }
    return items;
  }

  private updateAuto(): void {
    if (!this.isRunning()) return;
    const items = this.visibleItems();
    this.autoState = autoLayout(
      this.autoState,
      {
        screenSharing: items.some((i) => i.kind === 'screen'),
        activeSpeaker: this.source.activeSpeaker(),
        participantCount: items.filter((i) => i.kind === 'camera').length,
      },
      performance.now(),
    );
    if (this.layoutSetting === 'auto' && this.autoState.mode !== this.shownMode) this.relayout();
  }

  /** Recompute tiles, (re)size decoders, and hand the composer its new scene. */
  private relayout(): void {
    if (!this.isRunning()) return;
    const items = this.visibleItems();
    const mode = this.layoutSetting === 'auto' ? this.autoState.mode : this.layoutSetting;
    const speaker = this.source.activeSpeaker();
    const tiles = layout(items, mode, this.output, { activeSpeaker: speaker });
    if (mode !== this.shownMode) {
      this.shownMode = mode;
      this.emit('layout', mode);
    }
    const used = new Set<TrackInput>();
    const entries: SceneEntry[] = tiles.map((t) => {
      const p = this.participants.get(t.participantId)!;
      const input = this.videoInputFor(p, t);
      if (input) {
        used.add(input);
        this.ensureVideoDecoder(p, input, t.width, t.height);
      }
      return {
        tile: t,
        name: t.kind === 'screen' ? `${p.info.displayName} (screen)` : p.info.displayName,
        highlight: speaker !== null && t.participantId === speaker && t.kind === 'camera' && tiles.length > 1,
        frame: input ? this.frameSource(input, t) : () => null,
      };
    });
    // Decoders of tracks no tile shows (strip overflow, camera off) are stopped: no wasted CPU.
    for (const p of this.participants.values()) {
      for (const input of p.inputs.values()) {
        const v = input.video;
        if (v && !used.has(input)) {
          v.want = null;
          v.frozen = null;
          this.retireVideoDecoder(p, input);
        }
      }
    }
    this.composer.setScene(entries);
    this.composer.prune();
  }

  private videoInputFor(p: Participant, t: Tile): TrackInput | undefined {
    const want = t.kind === 'screen' ? 'screen' : 'camera';
    return [...p.inputs.values()].find((i) => i.video && i.track.source === want && !i.track.paused);
  }

  private frameSource(input: TrackInput, t: Tile): () => Buffer | null {
    return () => {
      const v = input.video;
      if (!v || input.track.paused) return null;
      const d = v.decoder;
      if (d && d.width === t.width && d.height === t.height) {
        const f = d.frames.next();
        if (f) {
          v.frozen = null;
          return f;
        }
      }
      return v.frozen && v.frozen.width === t.width && v.frozen.height === t.height ? v.frozen.buf : null;
    };
  }

  // ---------------------------------------------------------------- stats

  stats(): LivestreamStats {
    const rel = (t: number) => (t >= 0 ? Math.round(t - this.startedAt) : null);
    const participants: ParticipantStats[] = [];
    const processes: { name: string; pid: number }[] = [];
    if (this.encoder?.pid) processes.push({ name: 'encoder', pid: this.encoder.pid });
    for (const p of this.participants.values()) {
      let recv = 0;
      let drop = 0;
      let rep = 0;
      let under = 0;
      for (const i of p.inputs.values()) {
        const vd = i.video?.decoder;
        const ad = i.audio?.decoder;
        if (vd) {
          recv += vd.frames.received;
          drop += vd.frames.dropped;
          rep += vd.frames.repeated;
          if (p.firstVideoAt < 0 && vd.frames.firstFrameAt >= 0) p.firstVideoAt = vd.frames.firstFrameAt;
          if (vd.pid) processes.push({ name: `video decoder ${p.info.id}/${i.track.source}`, pid: vd.pid });
        }
        if (ad) {
          under += ad.pcm.underflows;
          if (p.firstAudioAt < 0 && ad.pcm.firstAudioAt >= 0) p.firstAudioAt = ad.pcm.firstAudioAt;
          if (ad.pid) processes.push({ name: `audio decoder ${p.info.id}/${i.track.source}`, pid: ad.pid });
        }
      }
      participants.push({
        id: p.info.id,
        name: p.info.displayName,
        firstVideoFrameMs: rel(p.firstVideoAt),
        firstAudioMs: rel(p.firstAudioAt),
        videoFramesReceived: recv,
        videoFramesDropped: drop,
        videoFramesRepeated: rep,
        audioUnderflows: under,
        decoderRestarts: p.decoderRestarts,
      });
    }
    return {
      state: this.stateValue,
      layout: this.shownMode,
      framesOut: this.framesOut,
      audioBlocksOut: this.blocksOut,
      duplicatedFrames: this.duplicated,
      droppedFrames: this.dropped,
      encoderRestarts: this.encoderRestarts,
      encoderFrames: this.encoder?.encodedFrames ?? 0,
      firstOutputFrameMs: rel(this.firstOutputAt),
      participants,
      processes,
    };
  }

  /** CPU seconds (user + system) per child process right now; sum over time windows for load. */
  async processCpu(): Promise<{ name: string; pid: number; cpuSeconds: number }[]> {
    const procs = this.stats().processes;
    const out = await Promise.all(
      procs.map(async (p) => ({ ...p, cpuSeconds: (await processCpuSeconds(p.pid)) ?? 0 })),
    );
    return out;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
