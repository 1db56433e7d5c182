import { EventEmitter } from 'node:events';
import net from 'node:net';
import Context from 'node-media-server/src/core/context.js';
import nmsLogger from 'node-media-server/src/core/logger.js';
import NodeRtmpServer from 'node-media-server/src/server/rtmp_server.js';
import type { NmsSession } from 'node-media-server';
import type { Logger } from '../log/logger.ts';
import { redactNmsMessage } from './nms-redact.ts';
import { decidePublish, mayPlay } from './publish-policy.ts';

/** The RTMP application name: publish to rtmp://host:port/live/<streamKey>. */
export const RTMP_APP = 'live';

/** What the ingest needs from the key store. */
export interface PublishKeyLookup {
  byStreamKey(key: string): { room: string; playbackId: string } | undefined;
}

/** A live publish. Carries no key: safe to log and to hand to other parts. */
export interface StreamInfo {
  room: string;
  playbackId: string;
  /** NMS session id of the publisher. */
  sessionId: string;
  startedAt: Date;
}

export interface StreamEndInfo extends StreamInfo {
  endedAt: Date;
  reason: 'disconnected' | 'kicked' | 'stopped' | 'idle';
}

export interface IngestEvents {
  streamStarted: [StreamInfo];
  streamEnded: [StreamEndInfo];
}

export interface IngestOptions {
  bind: string;
  /** 0 = any free port (tests). */
  port: number;
  keys: PublishKeyLookup;
  logger: Logger;
  /** A publisher socket that sends nothing for this long is dropped (default 10 s). */
  idleTimeoutMs?: number;
}

interface LiveEntry {
  info: StreamInfo;
  session: NmsSession;
  /** /live/<key>: internal only (the local pull URL), never logged. */
  streamPath: string;
}

// node-media-server keeps its state in module singletons (Context, logger): one hub per process.
let active: Ingest | undefined;

// NMS logs at debug level to console.log, with stream paths (= keys) in the text. Route every
// message, redacted, to the active ingest's logger at trace level; nothing reaches stdout directly.
nmsLogger.level = 'trace';
nmsLogger.log = (message: string, level = 'info') => {
  active?.logNms(String(message), level);
};

/**
 * The embedded RTMP hub (node-media-server 4.4.3, RTMP only, no NMS HTTP/record/store), with our
 * own publish authorisation. NMS answers a publish before any hook can veto it and forwards a
 * rejected publisher's packets to viewers, so a refused publisher is cut off inside prePublish:
 * its packet callback is replaced and its socket destroyed before another byte is parsed.
 */
export class Ingest extends EventEmitter<IngestEvents> {
  private readonly live = new Map<string, LiveEntry>();
  private readonly rtmp: NodeRtmpServer;
  private readonly server: net.Server;
  private closed = false;
  private readonly onPrePublish = (s: NmsSession) => this.handlePrePublish(s);
  private readonly onPrePlay = (s: NmsSession) => this.handlePrePlay(s);

  private constructor(
    private readonly opts: IngestOptions,
    private readonly logger: Logger,
  ) {
    super();
    // No rtmp.port here: NodeRtmpServer then creates no listener of its own (its listen error
    // handler calls process.exit). We listen ourselves and hand connections to it.
    Context.config = { bind: opts.bind, rtmp: {} };
    Context.broadcasts.clear();
    Context.sessions.clear();
    this.rtmp = new NodeRtmpServer();
    this.server = net.createServer((socket) => this.rtmp.handleRequest(socket));
  }

  static async start(opts: IngestOptions): Promise<Ingest> {
    if (active) throw new Error('an RTMP ingest is already running in this process');
    const logger = opts.logger.child({ component: 'ingest' });
    const ingest = new Ingest(opts, logger);
    active = ingest;
    Context.eventEmitter.on('prePublish', ingest.onPrePublish);
    Context.eventEmitter.on('prePlay', ingest.onPrePlay);
    try {
      await new Promise<void>((resolve, reject) => {
        ingest.server.once('error', reject);
        ingest.server.listen(opts.port, opts.bind, () => {
          ingest.server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      ingest.detach();
      throw new Error(
        `RTMP ingest cannot listen on ${opts.bind}:${opts.port}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
    ingest.server.on('error', (err) => logger.error({ err: err.message }, 'RTMP server error'));
    logger.info({ bind: opts.bind, port: ingest.port, app: RTMP_APP }, 'RTMP ingest listening');
    return ingest;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Host for local connections to the hub (loopback unless bound to one specific address). */
  get localHost(): string {
    const b = this.opts.bind;
    if (b === '0.0.0.0' || b === '::' || b === '') return '127.0.0.1';
    return b.includes(':') ? `[${b}]` : b;
  }

  /** rtmp://127.0.0.1:<port>/live/<key>: where a local publisher (the compositor) publishes. */
  localPublishUrl(streamKey: string): string {
    return `rtmp://${this.localHost}:${this.port}/${RTMP_APP}/${streamKey}`;
  }

  /** The local pull URL of a live room (HLS packager, relays, recorder); loopback only. */
  localPlayUrl(room: string): string | undefined {
    const e = this.live.get(room);
    return e && `rtmp://${this.localHost}:${this.port}${e.streamPath}`;
  }

  isLive(room: string): boolean {
    return this.live.has(room);
  }

  liveStream(room: string): StreamInfo | undefined {
    return this.live.get(room)?.info;
  }

  liveStreams(): StreamInfo[] {
    return [...this.live.values()].map((e) => e.info);
  }

  /** Disconnect the room's publisher (after a key rotation or revocation). */
  kick(room: string): boolean {
    const e = this.live.get(room);
    if (!e) return false;
    this.end(e, 'kicked');
    e.session.socket?.destroy();
    return true;
  }

  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const e of [...this.live.values()]) this.end(e, 'stopped');
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.rtmp.stop(); // destroys every RTMP socket it accepted
    });
    this.detach();
    this.logger.info('RTMP ingest stopped');
  }

  /** @internal NMS log sink (see the module top). */
  logNms(message: string, level: string): void {
    const text = redactNmsMessage(message);
    if (level === 'error' || level === 'warn') this.logger.debug({ nms: level }, text);
    else this.logger.trace({ nms: level }, text);
  }

  private detach(): void {
    Context.eventEmitter.off('prePublish', this.onPrePublish);
    Context.eventEmitter.off('prePlay', this.onPrePlay);
    Context.broadcasts.clear();
    Context.sessions.clear();
    if (active === this) active = undefined;
  }

  private handlePrePublish(session: NmsSession): void {
    const remote = session.socket?.remoteAddress;
    const decision = decidePublish(
      { app: session.streamApp, streamName: session.streamName },
      RTMP_APP,
      (key) => this.opts.keys.byStreamKey(key),
      (room) => this.live.has(room),
    );
    if (!decision.ok) {
      cutOff(session);
      if (decision.reason === 'already_live') {
        const room = this.opts.keys.byStreamKey(session.streamName)?.room;
        this.logger.warn(
          { room, remote },
          'second publisher refused: this conference already has a live publisher',
        );
      } else {
        this.logger.warn({ reason: decision.reason, remote }, 'RTMP publish refused');
      }
      return;
    }
    const { room, playbackId } = decision.record;
    const info: StreamInfo = { room, playbackId, sessionId: session.id, startedAt: new Date() };
    const entry: LiveEntry = { info, session, streamPath: session.streamPath };
    this.live.set(room, entry);
    const socket = session.socket;
    // The publisher's disconnect ends the stream now, not after NMS's 30 s reconnect grace.
    socket?.once('close', () => this.end(entry, 'disconnected'));
    socket?.setTimeout(this.opts.idleTimeoutMs ?? 10_000, () => {
      this.end(entry, 'idle');
      socket.destroy();
    });
    this.logger.info({ room, playbackId, remote }, 'RTMP publish started');
    // Emitted after NMS finished registering the publisher (we are inside its parser here).
    setImmediate(() => {
      if (this.live.get(room) === entry) this.emit('streamStarted', info);
    });
  }

  private handlePrePlay(session: NmsSession): void {
    const socket = session.socket;
    if (session.protocol !== 'rtmp' || !socket) return;
    if (mayPlay(socket.remoteAddress, socket.localAddress)) return;
    cutOff(session);
    this.logger.warn({ remote: socket.remoteAddress }, 'RTMP play refused: only local readers may play');
  }

  private end(entry: LiveEntry, reason: StreamEndInfo['reason']): void {
    if (this.live.get(entry.info.room) !== entry) return;
    this.live.delete(entry.info.room);
    const ended: StreamEndInfo = { ...entry.info, endedAt: new Date(), reason };
    this.logger.info({ room: ended.room, playbackId: ended.playbackId, reason }, 'RTMP publish ended');
    this.emit('streamEnded', ended);
  }
}

/**
 * Stop a session dead: no more packets parsed or forwarded, no more output, socket destroyed.
 * `session.close()` only half-closes (socket.end) and lets a publisher that ignores it go on
 * feeding viewers; this is the fix measured in the notes (viewer then receives 0 bytes).
 */
function cutOff(session: NmsSession): void {
  if (session.rtmp) {
    session.rtmp.onPacketCallback = () => {};
    session.rtmp.onOutputCallback = () => {};
  }
  const socket = session.socket;
  if (socket) {
    if (session.onData) socket.removeListener('data', session.onData);
    socket.destroy();
  }
}
