import { EventEmitter } from 'node:events';
import type { types as ms } from 'mediasoup';
import type { Peer, ProducerAppData } from '../conference/peer.ts';
import type { Room } from '../conference/room.ts';
import { consumeToRtp } from './plain-rtp-consumer.ts';
import type {
  ConsumedTrack,
  ParticipantInfo,
  RoomSource,
  RoomSourceEvents,
  RtpDestination,
  TrackInfo,
} from './room-source.ts';

/**
 * RoomSource for a room of the embedded conference. It reads the Room's state and events and
 * consumes on the room's router through its own PlainTransports: it is never a Peer, so no
 * participant ever sees it in a peer list or notification.
 */
export class EmbeddedRoomSource extends EventEmitter<RoomSourceEvents> implements RoomSource {
  readonly name: string;

  constructor(
    private readonly room: Room,
    private readonly plainRtpIp = '127.0.0.1',
  ) {
    super();
    this.name = room.name;
    room.on('peerJoined', (peer) => this.emit('participantJoined', participantInfo(peer)));
    room.on('peerLeft', (peer) => this.emit('participantLeft', peer.id));
    room.on('peerUpdated', (peer) => this.emit('participantUpdated', participantInfo(peer)));
    room.on('producerAdded', (peer, producer) => this.emit('trackAdded', peer.id, trackInfo(producer)));
    room.on('producerRemoved', (peer, id) => this.emit('trackRemoved', peer.id, id));
    room.on('producerPaused', (peer, id) => this.emit('trackPaused', peer.id, id));
    room.on('producerResumed', (peer, id) => this.emit('trackResumed', peer.id, id));
    room.on('activeSpeaker', (peerId) => this.emit('activeSpeakerChanged', peerId));
    room.once('closed', (reason) => this.emit('closed', reason));
  }

  get closed(): boolean {
    return this.room.closed;
  }

  participants(): ParticipantInfo[] {
    return [...this.room.peers.values()].map(participantInfo);
  }

  activeSpeaker(): string | null {
    return this.room.activeSpeaker;
  }

  async consume(trackId: string, destination: RtpDestination): Promise<ConsumedTrack> {
    if (this.room.closed) throw new Error(`room ${this.name} is closed`);
    const known = [...this.room.peers.values()].some((p) => p.producers.has(trackId));
    if (!known) throw new Error(`no track ${trackId} in room ${this.name}`);
    return consumeToRtp(this.room.router, trackId, destination, this.plainRtpIp);
  }
}

function participantInfo(peer: Peer): ParticipantInfo {
  return {
    id: peer.id,
    displayName: peer.displayName,
    tracks: [...peer.producers.values()].map(trackInfo),
    excludedFromStream: peer.excludedFromStream,
  };
}

function trackInfo(p: ms.Producer<ProducerAppData>): TrackInfo {
  return { id: p.id, kind: p.kind, source: p.appData.source, paused: p.paused };
}
