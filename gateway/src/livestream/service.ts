import { EventEmitter } from 'node:events';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log/logger.ts';
import { redactText } from '../log/logger.ts';
import type { RoomSource } from '../rooms/room-source.ts';
import type { LayoutMode, LayoutModeSetting } from '../compositor/layout.ts';
import type { WebhookDispatcher } from '../api/webhooks.ts';
import type { GatewayMetrics } from '../api/metrics.ts';
import { HttpError } from '../api/http-common.ts';
import { Livestream, type LivestreamOptions, type LivestreamState } from './livestream.ts';
import { DestinationSet, type DestinationSetOptions } from './destinations/destination-set.ts';
import type { RelayStatus } from './destinations/relay.ts';
import { DestinationError, type DestinationInput } from './destinations/validate.ts';
import { Recorder, listRecordings, type RecordingInfo, type RecorderState } from './recording/recorder.ts';
import { AutoStopWatcher } from './auto-stop.ts';

/**
 * One managed livestream per room: the product around the compositor. It looks the room up
 * through a `(room) => RoomSource` function (embedded conference or sidecar), publishes to the
 * embedded RTMP hub with the room's key, and hangs the room's extra destinations, recorder,
 * auto-stop, webhooks and metrics off the livestream's lifecycle. Every state change is
 * pushed to the room's peers (`notify`) and to local subscribers (`change`, for SSE).
 */

/** What the service needs from the key store, the hub and HLS (the Gateway's parts). */
export interface StreamingParts {
  keys: {
    getOrCreate(room: string): { streamKey: string; playbackId: string };
    rotate(room: string): { streamKey: string; playbackId: string };
  };
  ingest: {
    readonly port: number;
    localPublishUrl(streamKey: string): string;
    isLive(room: string): boolean;
    kick(room: string): boolean;
  };
  hls: {
    status(playbackId: string): { status: 'live' | 'offline' | 'ended'; readyAt: string | null };
    viewers: { count(playbackId: string): number };
    setKeep(playbackId: string, keep: boolean): void;
  };
}

export interface LivestreamServiceOptions {
  config: Pick<Config, 'livestream' | 'destinations' | 'recording'>;
  logger: Logger;
  /** The room's hidden-participant view, or undefined if no such room is open. */
  roomSource: (room: string) => RoomSource | undefined;
  streaming: StreamingParts;
  webhooks: WebhookDispatcher;
  metrics: GatewayMetrics;
  /** Push to every peer of the room (LIVE badge); false/undefined when the room has no peers. */
  notify?: (room: string, method: string, data: unknown) => void;
  /** Public base URL for watch links in webhooks (config.server.publicUrl); '' = path only. */
  publicUrl?: string;
  /** Tests: faster reconnects / relay backoff, a custom resolver. */
  livestream?: Pick<LivestreamOptions, 'reconnect'>;
  destinations?: Pick<DestinationSetOptions, 'relay' | 'resolve'>;
  autoStopIntervalMs?: number;
}

export type PublicState = LivestreamState;

export interface DestinationView {
  id: string;
  state: RelayStatus['state'];
  /** URL with the key masked. */
  url: string;
  attempts: number;
  /** Bytes sent to the destination by the current/last connection. */
  bytes: number;
  lastError: string | null;
  liveSince: string | null;
}

/** What everyone in the room may see (the LIVE badge). */
export interface PublicLivestreamStatus {
  room: string;
  state: PublicState;
  /** Why it stopped / failed / is reconnecting, in words. */
  reason: string | null;
  startedAt: string | null;
  endedAt: string | null;
  durationSeconds: number;
  viewers: number;
  watchPath: string;
}

/** The moderator view. */
export interface LivestreamStatus extends PublicLivestreamStatus {
  layout: LayoutModeSetting;
  /** The layout on screen now (auto resolved); null when not running. */
  shownLayout: LayoutMode | null;
  hls: 'live' | 'offline' | 'ended';
  destinations: DestinationView[];
  recording: { enabled: boolean; state: RecorderState | null; file: string | null };
}

export interface LivestreamServiceEvents {
  change: [room: string, status: LivestreamStatus];
}

interface Entry {
  room: string;
  playbackId: string;
  live: Livestream;
  state: PublicState;
  reason: string | null;
  startedAt: Date;
  endedAt: Date | null;
  layout: LayoutModeSetting;
  destinations: DestinationSet;
  recordingEnabled: boolean;
  recorder: Recorder | null;
  autoStop: AutoStopWatcher;
  sampler: NodeJS.Timeout;
  lastCpu: { at: number; seconds: number } | null;
  lastDropped: number;
  lastRestarts: number;
  everLive: boolean;
  ending: Promise<void> | null;
}

const ACTIVE: readonly PublicState[] = ['starting', 'live', 'reconnecting'];
const ROOM_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export class LivestreamService extends EventEmitter<LivestreamServiceEvents> {
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(private readonly opts: LivestreamServiceOptions) {
    super();
    this.setMaxListeners(0); // one per SSE subscriber
  }

  /** True when a room with this name is open (someone is in it) or has a livestream record. */
  knows(room: string): boolean {
    return this.entries.has(room) || this.opts.roomSource(room) !== undefined;
  }

  isActive(room: string): boolean {
    const e = this.entries.get(room);
    return e !== undefined && ACTIVE.includes(e.state);
  }

  liveCount(): number {
    return [...this.entries.values()].filter((e) => e.state === 'live').length;
  }

  status(room: string): LivestreamStatus {
    const e = this.entries.get(room);
    const ids = this.opts.streaming.keys.getOrCreate(room);
    const hls = this.opts.streaming.hls.status(ids.playbackId).status;
    const watchPath = `/watch/${ids.playbackId}`;
    if (!e) {
      return {
        room,
        state: 'idle',
        reason: null,
        startedAt: null,
        endedAt: null,
        durationSeconds: 0,
        viewers: 0,
        watchPath,
        layout: this.opts.config.livestream.defaultLayout,
        shownLayout: null,
        hls,
        destinations: [],
        recording: { enabled: false, state: null, file: null },
      };
    }
    const end = e.endedAt?.getTime() ?? Date.now();
    return {
      room,
      state: e.state,
      reason: e.reason,
      startedAt: e.startedAt.toISOString(),
      endedAt: e.endedAt?.toISOString() ?? null,
      durationSeconds: Math.max(0, Math.floor((end - e.startedAt.getTime()) / 1000)),
      viewers: ACTIVE.includes(e.state) ? this.opts.streaming.hls.viewers.count(ids.playbackId) : 0,
      watchPath,
      layout: e.layout,
      shownLayout: ACTIVE.includes(e.state) ? e.live.layout : null,
      hls,
      destinations: e.destinations.list().map(destinationView),
      recording: {
        enabled: e.recordingEnabled,
        state: e.recorder?.state ?? null,
        file: e.recorder?.name ?? null,
      },
    };
  }

  /** The subset every participant may see. */
  publicStatus(room: string): PublicLivestreamStatus {
    const s = this.status(room);
    return {
      room: s.room,
      state: s.state,
      reason: s.reason,
      startedAt: s.startedAt,
      endedAt: s.endedAt,
      durationSeconds: s.durationSeconds,
      viewers: s.viewers,
      watchPath: s.watchPath,
    };
  }

  /**
   * Starts the room's livestream: the gateway joins as the hidden participant and publishes
   * to the hub with the room's key. 404 if the room is not open, 409 if already streamed.
   */
  async start(
    room: string,
    actor: string,
    opts: { layout?: LayoutModeSetting } = {},
  ): Promise<LivestreamStatus> {
    if (this.closed) throw new HttpError(503, 'the gateway is stopping');
    if (this.isActive(room)) throw new HttpError(409, `room "${room}" is already being livestreamed`);
    const source = this.opts.roomSource(room);
    if (!source || source.closed) throw new HttpError(404, `room "${room}" is not open (nobody is in it)`);
    const ids = this.opts.streaming.keys.getOrCreate(room);
    if (this.opts.streaming.ingest.isLive(room))
      throw new HttpError(409, `room "${room}"'s stream key is in use by another publisher (e.g. OBS)`);
    // A previous, ended entry may still be finishing its recording: let it.
    const prev = this.entries.get(room);
    if (prev?.ending) await prev.ending;

    const log = this.opts.logger.child({ room });
    const publishUrl = this.opts.streaming.ingest.localPublishUrl(ids.streamKey);
    const layout = opts.layout ?? this.opts.config.livestream.defaultLayout;
    const live = new Livestream({
      source,
      rtmpUrl: publishUrl,
      output: this.opts.config.livestream.output,
      layout,
      logger: log,
      ...this.opts.livestream,
    });
    // Relays and the recorder read the hub at the same path the compositor publishes to.
    const destinations = new DestinationSet({
      sourceUrl: publishUrl,
      config: this.opts.config.destinations,
      logger: log,
      ...this.opts.destinations,
    });
    const now = Date.now();
    let emptySince: number | null = null;
    let lastMediaAt: number | null = null;
    let lastFrames = 0;
    const entry: Entry = {
      room,
      playbackId: ids.playbackId,
      live,
      state: 'starting',
      reason: null,
      startedAt: new Date(now),
      endedAt: null,
      layout,
      destinations,
      recordingEnabled: false,
      recorder: null,
      autoStop: new AutoStopWatcher({
        config: {
          emptySeconds: this.opts.config.livestream.autoStopEmptySeconds,
          noMediaSeconds: this.opts.config.livestream.autoStopNoMediaSeconds,
        },
        intervalMs: this.opts.autoStopIntervalMs,
        sample: () => {
          const t = Date.now();
          const occupancy = source.closed ? 0 : source.participants().length;
          if (occupancy > 0) emptySince = null;
          else emptySince ??= t;
          // Media = decoded video frames or first audio of someone; counters only grow.
          const st = live.stats();
          const frames = st.participants.reduce((n, p) => n + p.videoFramesReceived, 0);
          const audio = st.participants.some((p) => p.firstAudioMs !== null);
          if (frames !== lastFrames || (audio && lastMediaAt === null)) lastMediaAt = t;
          lastFrames = frames;
          return { occupancy, emptySince, lastMediaAt };
        },
        onStop: (d) => {
          log.info({ reason: d.reason }, 'livestream auto-stop');
          void this.stop(room, `auto-stop: ${d.message}`);
        },
      }),
      sampler: setInterval(() => void this.sample(entry), 2000),
      lastCpu: null,
      lastDropped: 0,
      lastRestarts: 0,
      everLive: false,
      ending: null,
    };
    entry.sampler.unref();
    this.entries.set(room, entry);

    live.on('state', (state, reason) => this.onState(entry, state, reason));
    // (Sidecar rooms: the Livestream itself goes `reconnecting` / `live` on interrupted/restored.)
    live.on('layout', () => this.changed(entry));
    destinations.on('state', () => this.changed(entry));
    destinations.on('attemptFailed', () => this.opts.metrics.incDestinationFailures(room));
    destinations.on('failed', (s) =>
      this.opts.webhooks.emit('destination.failed', {
        room,
        destinationId: s.id,
        destination: s.display,
        error: s.lastError ?? 'failed',
      }),
    );
    log.info({ actor }, 'livestream start requested');
    this.changed(entry);
    try {
      await live.start();
    } catch (err) {
      const why = redactText(err instanceof Error ? err.message : String(err));
      await this.finish(entry, 'failed', `could not start: ${why}`);
      throw new HttpError(500, `could not start the livestream: ${why}`);
    }
    entry.autoStop.start();
    return this.status(room);
  }

  /** Stops the room's livestream (idempotent). 404 if there never was one. */
  async stop(room: string, reason = 'stopped by a moderator'): Promise<LivestreamStatus> {
    const e = this.entries.get(room);
    if (!e) throw new HttpError(404, `room "${room}" has no livestream`);
    if (ACTIVE.includes(e.state)) await this.finish(e, 'stopped', reason);
    else if (e.ending) await e.ending;
    return this.status(room);
  }

  setLayout(room: string, layout: LayoutModeSetting): LivestreamStatus {
    const e = this.active(room);
    e.layout = layout;
    e.live.setLayout(layout);
    this.changed(e);
    return this.status(room);
  }

  async addDestination(room: string, input: DestinationInput): Promise<DestinationView> {
    const e = this.active(room);
    try {
      const s = await e.destinations.add(input);
      this.changed(e);
      return destinationView(s);
    } catch (err) {
      if (err instanceof DestinationError) {
        const msg = err.message.startsWith(err.field) ? err.message : `${err.field}: ${err.message}`;
        throw new HttpError(400, msg, err.field);
      }
      throw err;
    }
  }

  async removeDestination(room: string, id: string): Promise<void> {
    const e = this.active(room);
    if (!(await e.destinations.remove(id))) throw new HttpError(404, `destination "${id}" not found`);
    this.changed(e);
  }

  /** Record toggle: an MP4 of the livestream (and the HLS segments are kept). */
  async setRecording(room: string, enabled: boolean): Promise<LivestreamStatus> {
    const e = this.active(room);
    if (enabled === e.recordingEnabled) return this.status(room);
    e.recordingEnabled = enabled;
    this.opts.streaming.hls.setKeep(e.playbackId, enabled);
    if (enabled) await this.startRecorder(e);
    else await this.stopRecorder(e);
    this.changed(e);
    return this.status(room);
  }

  recordings(room: string): Promise<RecordingInfo[]> {
    return listRecordings(this.opts.config.recording.dir, room);
  }

  /** The room's RTMP credentials (moderators only: the key is a secret). */
  key(room: string): { streamKey: string; playbackId: string } {
    const r = this.opts.streaming.keys.getOrCreate(room);
    return { streamKey: r.streamKey, playbackId: r.playbackId };
  }

  /**
   * New key for the room. A running livestream of ours is restarted on the new key (the old
   * one is dead at once); an outside publisher on the old key (OBS) is disconnected.
   */
  async rotateKey(room: string, actor: string): Promise<{ streamKey: string; playbackId: string }> {
    const wasActive = this.isActive(room);
    const layout = this.entries.get(room)?.layout;
    if (wasActive) await this.stop(room, 'stream key rotated');
    const r = this.opts.streaming.keys.rotate(room);
    this.opts.streaming.ingest.kick(room);
    this.opts.logger.info({ room, actor }, 'stream key rotated');
    if (wasActive && this.opts.roomSource(room)) await this.start(room, actor, { layout });
    return { streamKey: r.streamKey, playbackId: r.playbackId };
  }

  /** Stops every livestream (gateway shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(
      [...this.entries.values()].map((e) =>
        ACTIVE.includes(e.state) ? this.finish(e, 'stopped', 'the gateway is shutting down') : e.ending,
      ),
    );
  }

  // ---------------------------------------------------------------------------------------------

  private active(room: string): Entry {
    const e = this.entries.get(room);
    if (!e || !ACTIVE.includes(e.state))
      throw new HttpError(409, `room "${room}" is not being livestreamed (start it first)`);
    return e;
  }

  private onState(e: Entry, state: LivestreamState, reason: string | undefined): void {
    if (e.ending || state === 'idle') return;
    if (state === 'stopped' || state === 'failed') {
      // The livestream ended on its own (room closed, encoder gave up).
      void this.finish(e, state, reason ?? (state === 'failed' ? 'the encoder failed' : 'stopped'));
      return;
    }
    e.state = state;
    e.reason = state === 'reconnecting' ? (reason ?? 'reconnecting to the RTMP hub') : null;
    if (state === 'live' && !e.everLive) {
      e.everLive = true;
      this.opts.webhooks.emit('livestream.started', {
        room: e.room,
        watchUrl: `${this.opts.publicUrl ?? ''}/watch/${e.playbackId}`,
        startedAt: e.startedAt.toISOString(),
      });
    }
    if (state === 'live' && e.recordingEnabled && !e.recorder) void this.startRecorder(e);
    this.changed(e);
    this.updateLiveGauge();
  }

  private finish(e: Entry, state: 'stopped' | 'failed', reason: string): Promise<void> {
    e.ending ??= (async () => {
      e.state = state;
      e.reason = reason;
      e.endedAt = new Date();
      e.autoStop.stop();
      clearInterval(e.sampler);
      this.changed(e);
      this.updateLiveGauge();
      // Recorder and relays first, while the hub still sends: ffmpeg only reads its 'q' between
      // packets, and after the publisher leaves the hub holds readers without data (its
      // reconnect window), so a recorder stopped after the encoder hangs and loses its index.
      await Promise.allSettled([e.destinations.close(), this.stopRecorder(e)]);
      await e.live.stop(reason).catch(() => undefined);
      const durationSeconds = Math.round((e.endedAt.getTime() - e.startedAt.getTime()) / 1000);
      if (state === 'failed') this.opts.webhooks.emit('livestream.failed', { room: e.room, error: reason });
      this.opts.webhooks.emit('livestream.ended', { room: e.room, reason, durationSeconds });
      this.opts.metrics.forgetRoom(e.room);
      this.opts.logger.info({ room: e.room, state, reason, durationSeconds }, 'livestream ended');
      this.changed(e);
    })();
    return e.ending;
  }

  private async startRecorder(e: Entry): Promise<void> {
    if (e.recorder || e.state !== 'live') return; // started when the stream goes live
    const rec = new Recorder({
      room: e.room,
      sourceUrl: this.opts.streaming.ingest.localPublishUrl(this.key(e.room).streamKey),
      dir: this.opts.config.recording.dir,
      logger: this.opts.logger.child({ room: e.room }),
    });
    e.recorder = rec;
    rec.on('ready', (info) => {
      this.opts.webhooks.emit('recording.ready', {
        room: e.room,
        name: info.name,
        size: info.size,
        durationSeconds: info.duration,
      });
      this.changed(e);
    });
    rec.on('failed', () => this.changed(e));
    try {
      await rec.start();
    } catch (err) {
      this.opts.logger.warn({ room: e.room, err: String(err) }, 'recorder did not start');
    }
  }

  private async stopRecorder(e: Entry): Promise<void> {
    const rec = e.recorder;
    e.recorder = null;
    if (rec) await rec.stop();
  }

  private changed(e: Entry): void {
    if (this.entries.get(e.room) !== e) return;
    const status = this.status(e.room);
    this.emit('change', e.room, status);
    try {
      this.opts.notify?.(e.room, 'livestream.state', this.publicStatus(e.room));
    } catch (err) {
      this.opts.logger.debug({ room: e.room, err: String(err) }, 'livestream notify failed');
    }
  }

  private updateLiveGauge(): void {
    this.opts.metrics.setLiveStreams(this.liveCount());
  }

  /** Every 2 s while running: viewers, dropped frames, encoder restarts, CPU → /metrics. */
  private async sample(e: Entry): Promise<void> {
    if (!ACTIVE.includes(e.state)) return;
    const m = this.opts.metrics;
    const st = e.live.stats();
    m.setViewers(e.room, this.opts.streaming.hls.viewers.count(e.playbackId));
    m.addDroppedFrames(e.room, st.droppedFrames - e.lastDropped);
    e.lastDropped = st.droppedFrames;
    for (let i = e.lastRestarts; i < st.encoderRestarts; i++) m.incEncoderRestarts(e.room);
    e.lastRestarts = st.encoderRestarts;
    const cpu = (await e.live.processCpu()).reduce((n, p) => n + p.cpuSeconds, 0);
    const now = performance.now();
    // Children come and go (decoder restarts): a negative delta means "restart the window".
    if (e.lastCpu && cpu >= e.lastCpu.seconds)
      m.setLivestreamCpu(e.room, (cpu - e.lastCpu.seconds) / ((now - e.lastCpu.at) / 1000));
    e.lastCpu = { at: now, seconds: cpu };
    if (e.state === 'live') this.changed(e); // duration + viewers tick for subscribers
  }

  /** Room names are validated by the API; this guards direct callers. */
  static validRoom(room: string): boolean {
    return ROOM_RE.test(room);
  }
}

function destinationView(s: RelayStatus): DestinationView {
  return {
    id: s.id,
    state: s.state,
    url: s.display,
    attempts: s.attempts,
    bytes: s.bytes,
    lastError: s.lastError,
    liveSince: s.liveSince === null ? null : new Date(s.liveSince).toISOString(),
  };
}
