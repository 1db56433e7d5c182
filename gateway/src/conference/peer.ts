import type { types as ms } from 'mediasoup';
import type { Notification, PeerView, ProducerView } from './protocol.ts';
import type { TrackSource } from '../rooms/room-source.ts';

export interface ProducerAppData extends Record<string, unknown> {
  peerId: string;
  source: TrackSource;
}

/**
 * One signaling peer: a browser socket in a room, with its transports, producers and consumers.
 * close() releases every mediasoup object it owns (closing a transport closes its producers and
 * consumers), so nothing outlives the socket.
 */
export class Peer {
  readonly transports = new Map<string, ms.WebRtcTransport>();
  readonly producers = new Map<string, ms.Producer<ProducerAppData>>();
  readonly consumers = new Map<string, ms.Consumer>();
  displayName: string;
  moderator = false;
  excludedFromStream = false;
  private isClosed = false;

  constructor(
    readonly id: string,
    displayName: string,
    private readonly sendFn: (msg: Notification) => void,
  ) {
    this.displayName = displayName;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  send(msg: Notification): void {
    if (!this.isClosed) this.sendFn(msg);
  }

  transport(transportId: string): ms.WebRtcTransport {
    const t = this.transports.get(transportId);
    if (!t) throw new RequestError(`no transport ${transportId} for this peer`);
    return t;
  }

  producer(producerId: string): ms.Producer<ProducerAppData> {
    const p = this.producers.get(producerId);
    if (!p) throw new RequestError(`no producer ${producerId} for this peer`);
    return p;
  }

  view(): PeerView {
    return {
      id: this.id,
      displayName: this.displayName,
      excludedFromStream: this.excludedFromStream,
      producers: [...this.producers.values()].map(producerView),
    };
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    // Producers may live on transports the peer does not own (server-side media): close them too.
    for (const p of this.producers.values()) p.close();
    for (const t of this.transports.values()) t.close();
    this.transports.clear();
    this.producers.clear();
    this.consumers.clear();
  }
}

export function producerView(p: ms.Producer<ProducerAppData>): ProducerView {
  return { id: p.id, kind: p.kind, source: p.appData.source, paused: p.paused };
}

/** A request the client got wrong (its message is shown to the client as is). */
export class RequestError extends Error {
  constructor(
    message: string,
    readonly code: 'bad_params' | 'not_joined' | 'forbidden' | 'failed' = 'bad_params',
  ) {
    super(message);
  }
}
