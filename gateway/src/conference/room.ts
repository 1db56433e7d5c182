import { EventEmitter } from 'node:events';
import type { types as ms } from 'mediasoup';
import type { Logger } from '../log/logger.ts';
import type { TrackSource } from '../rooms/room-source.ts';
import { notification, type PeerView } from './protocol.ts';
import { RequestError, producerView, type Peer, type ProducerAppData } from './peer.ts';

export interface RoomEvents {
  peerJoined: [peer: Peer];
  peerLeft: [peer: Peer];
  /** Display name or stream opt-out changed. */
  peerUpdated: [peer: Peer];
  producerAdded: [peer: Peer, producer: ms.Producer<ProducerAppData>];
  producerRemoved: [peer: Peer, producerId: string];
  producerPaused: [peer: Peer, producerId: string];
  producerResumed: [peer: Peer, producerId: string];
  activeSpeaker: [peerId: string | null];
  closed: [reason: string];
}

export interface WebRtcSettings {
  listenIp: string;
  /** undefined = announce the listen ip itself. */
  announcedAddress: string | undefined;
}

/**
 * A conference room: one mediasoup router, its signaling peers and an active-speaker observer.
 * Closed (router released) `graceMs` after the last peer leaves, unless someone joins meanwhile.
 * Server-side consumers (the hidden livestream participant) hang off `router` directly and are
 * never peers here, so they never show up in any peer list or notification.
 */
export class Room extends EventEmitter<RoomEvents> {
  readonly peers = new Map<string, Peer>();
  private speaker: string | null = null;
  private emptyTimer: NodeJS.Timeout | undefined;
  private isClosed = false;

  private constructor(
    readonly name: string,
    readonly router: ms.Router,
    private readonly speakerObserver: ms.ActiveSpeakerObserver,
    /** The creator's moderator token (issued to the first peer). */
    readonly creatorToken: string,
    private readonly graceMs: number,
    private readonly webrtc: WebRtcSettings,
    private readonly logger: Logger,
  ) {
    super();
    router.observer.once('close', () => this.close('router closed'));
    speakerObserver.on('dominantspeaker', ({ producer }) => {
      const peerId = (producer.appData as Partial<ProducerAppData>).peerId ?? null;
      this.setSpeaker(peerId);
    });
    // Nobody in the room yet: start the countdown until the creator actually joins.
    this.scheduleCloseIfEmpty();
  }

  static async create(opts: {
    name: string;
    router: ms.Router;
    creatorToken: string;
    graceMs: number;
    webrtc: WebRtcSettings;
    logger: Logger;
  }): Promise<Room> {
    const observer = await opts.router.createActiveSpeakerObserver({ interval: 300 });
    return new Room(
      opts.name,
      opts.router,
      observer,
      opts.creatorToken,
      opts.graceMs,
      opts.webrtc,
      opts.logger.child({ room: opts.name }),
    );
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get activeSpeaker(): string | null {
    return this.speaker;
  }

  peerViews(except?: string): PeerView[] {
    return [...this.peers.values()].filter((p) => p.id !== except).map((p) => p.view());
  }

  /** Sends a notification to every peer (optionally but one). */
  notify(method: string, data: unknown, exceptPeerId?: string): void {
    const msg = notification(method, data);
    for (const p of this.peers.values()) if (p.id !== exceptPeerId) p.send(msg);
  }

  join(peer: Peer): void {
    if (this.isClosed) throw new RequestError('room is closed, join again', 'failed');
    clearTimeout(this.emptyTimer);
    this.emptyTimer = undefined;
    this.peers.set(peer.id, peer);
    this.notify('peerJoined', peer.view(), peer.id);
    this.logger.info({ peerId: peer.id, peers: this.peers.size }, 'peer joined');
    this.emit('peerJoined', peer);
  }

  leave(peer: Peer): void {
    if (this.peers.get(peer.id) !== peer) {
      peer.close();
      return;
    }
    this.peers.delete(peer.id);
    // Producers close with their transports; tell the others before the peer vanishes.
    for (const id of peer.producers.keys()) this.emit('producerRemoved', peer, id);
    peer.close();
    this.notify('peerLeft', { peerId: peer.id });
    this.logger.info({ peerId: peer.id, peers: this.peers.size }, 'peer left');
    this.emit('peerLeft', peer);
    if (this.speaker === peer.id) this.setSpeaker(null);
    this.scheduleCloseIfEmpty();
  }

  private scheduleCloseIfEmpty(): void {
    if (this.peers.size > 0 || this.isClosed || this.emptyTimer) return;
    this.emptyTimer = setTimeout(() => this.close('empty'), this.graceMs);
    this.emptyTimer.unref();
  }

  updatePeer(peer: Peer, change: { displayName?: string; excludedFromStream?: boolean }): void {
    if (change.displayName !== undefined) peer.displayName = change.displayName;
    if (change.excludedFromStream !== undefined) peer.excludedFromStream = change.excludedFromStream;
    this.notify('peerUpdated', peer.view());
    this.emit('peerUpdated', peer);
  }

  async createWebRtcTransport(peer: Peer, direction: 'send' | 'recv'): Promise<ms.WebRtcTransport> {
    const info = { ip: this.webrtc.listenIp, announcedAddress: this.webrtc.announcedAddress };
    const transport = await this.router.createWebRtcTransport({
      listenInfos: [
        { protocol: 'udp', ...info },
        { protocol: 'tcp', ...info },
      ],
      preferUdp: true,
      initialAvailableOutgoingBitrate: 1_000_000,
      appData: { peerId: peer.id, direction },
    });
    if (peer.closed) {
      transport.close();
      throw new RequestError('peer left', 'failed');
    }
    peer.transports.set(transport.id, transport);
    transport.observer.once('close', () => peer.transports.delete(transport.id));
    return transport;
  }

  async produce(
    peer: Peer,
    transportId: string,
    kind: 'audio' | 'video',
    rtpParameters: ms.RtpParameters,
    source: TrackSource,
  ): Promise<ms.Producer<ProducerAppData>> {
    const wantKind = source === 'camera' || source === 'screen' ? 'video' : 'audio';
    if (kind !== wantKind) throw new RequestError(`a '${source}' track must be ${wantKind}, not ${kind}`);
    for (const p of peer.producers.values())
      if (p.appData.source === source) throw new RequestError(`already producing '${source}'`);
    const producer = await peer
      .transport(transportId)
      .produce<ProducerAppData>({ kind, rtpParameters, appData: { peerId: peer.id, source } });
    await this.registerProducer(peer, producer);
    return producer;
  }

  /**
   * Makes a producer created on this room's router part of `peer`'s published tracks: the
   * others are told, the RoomSource emits trackAdded, it closes with the peer. produce() uses it;
   * server-side media (and tests with synthetic ffmpeg senders) can too.
   */
  async registerProducer(peer: Peer, producer: ms.Producer<ProducerAppData>): Promise<void> {
    if (peer.closed) {
      producer.close();
      throw new RequestError('peer left', 'failed');
    }
    peer.producers.set(producer.id, producer);
    producer.observer.once('close', () => {
      // A leaving peer's producers are reported by leave(); only single closes are news.
      if (!peer.closed && peer.producers.delete(producer.id)) {
        this.notify('producerClosed', { peerId: peer.id, producerId: producer.id });
        this.emit('producerRemoved', peer, producer.id);
      }
    });
    if (producer.kind === 'audio')
      await this.speakerObserver.addProducer({ producerId: producer.id }).catch((err: unknown) => {
        this.logger.warn({ err: String(err) }, 'active speaker observer refused a producer');
      });
    this.notify('newProducer', { peerId: peer.id, ...producerView(producer) }, peer.id);
    this.emit('producerAdded', peer, producer);
  }

  closeProducer(peer: Peer, producerId: string): void {
    peer.producer(producerId).close();
  }

  async setProducerPaused(peer: Peer, producerId: string, paused: boolean): Promise<void> {
    const producer = peer.producer(producerId);
    if (producer.paused === paused) return;
    if (paused) await producer.pause();
    else await producer.resume();
    this.notify(paused ? 'producerPaused' : 'producerResumed', { peerId: peer.id, producerId }, peer.id);
    this.emit(paused ? 'producerPaused' : 'producerResumed', peer, producerId);
  }

  /** A consumer for `peer` on its recv transport, created paused (the client resumes it when ready). */
  async consume(peer: Peer, producerId: string, rtpCapabilities: ms.RtpCapabilities) {
    const owner = [...this.peers.values()].find((p) => p.producers.has(producerId));
    const producer = owner?.producers.get(producerId);
    if (!owner || !producer) throw new RequestError(`no producer ${producerId} in this room`);
    if (owner === peer) throw new RequestError('cannot consume your own producer');
    if (!this.router.canConsume({ producerId, rtpCapabilities }))
      throw new RequestError('your device cannot consume this producer (codec mismatch)');
    const transport = [...peer.transports.values()].find((t) => t.appData.direction === 'recv');
    if (!transport) throw new RequestError('create a recv transport first');
    const consumer = await transport.consume({ producerId, rtpCapabilities, paused: true });
    peer.consumers.set(consumer.id, consumer);
    const gone = () => {
      if (peer.consumers.delete(consumer.id))
        peer.send(notification('consumerClosed', { consumerId: consumer.id }));
    };
    consumer.on('producerclose', gone);
    consumer.on('transportclose', () => peer.consumers.delete(consumer.id));
    return {
      id: consumer.id,
      producerId,
      peerId: owner.id,
      kind: consumer.kind,
      source: producer.appData.source,
      rtpParameters: consumer.rtpParameters,
      producerPaused: consumer.producerPaused,
    };
  }

  async resumeConsumer(peer: Peer, consumerId: string): Promise<void> {
    const consumer = peer.consumers.get(consumerId);
    if (!consumer) throw new RequestError(`no consumer ${consumerId} for this peer`);
    await consumer.resume();
    if (consumer.kind === 'video') await consumer.requestKeyFrame().catch(() => {});
  }

  private setSpeaker(peerId: string | null): void {
    if (peerId === this.speaker) return;
    this.speaker = peerId;
    this.notify('activeSpeaker', { peerId });
    this.emit('activeSpeaker', peerId);
  }

  close(reason = 'closed'): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearTimeout(this.emptyTimer);
    for (const p of this.peers.values()) {
      p.send(notification('roomClosed', { reason }));
      p.close();
    }
    this.peers.clear();
    this.router.close();
    this.logger.info({ reason }, 'room closed');
    this.emit('closed', reason);
  }
}
