import type { types as ms } from 'mediasoup';
import type { AppMessage, RoomStateMessage, WireParticipant, WireTrack } from '../sidecar/protocol.ts';

export type TrackSource = WireTrack['source'];

export interface ParticipantDescription {
  id: string;
  displayName: string;
  /** The participant asked not to be shown in the livestream. */
  excludedFromStream?: boolean;
}

/** What a RoomHandle needs from its connector (kept narrow so the handle stays testable). */
export interface RoomHandleHost {
  send(message: AppMessage): void;
  roomClosed(handle: RoomHandle, reason: string): void;
}

interface TrackEntry {
  wire: WireTrack;
  unlisten: () => void;
}

interface ParticipantEntry {
  id: string;
  displayName: string;
  excludedFromStream: boolean;
  tracks: Map<string, TrackEntry>;
}

/**
 * One room of the app, as the gateway should see it. The app reports its peers and producers;
 * the handle keeps the full state (so it can resync after a reconnect) and forwards each change
 * while connected. Producers passed to trackAdded are watched: pause/resume/close are reported by
 * themselves. Nothing here touches the app's signaling: the gateway never becomes a peer.
 */
export class RoomHandle {
  private readonly people = new Map<string, ParticipantEntry>();
  private speaker: string | null = null;
  private isClosed = false;
  private readonly onRouterClose = () => this.close('router closed');

  constructor(
    readonly name: string,
    readonly router: ms.Router,
    private readonly host: RoomHandleHost,
  ) {
    router.observer.once('close', this.onRouterClose);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  participantJoined(p: ParticipantDescription): void {
    this.assertOpen();
    checkId('participant id', p.id);
    const existing = this.people.get(p.id);
    if (existing) {
      this.participantUpdated(p.id, { displayName: p.displayName, excludedFromStream: p.excludedFromStream });
      return;
    }
    const entry: ParticipantEntry = {
      id: p.id,
      displayName: String(p.displayName).slice(0, 100),
      excludedFromStream: p.excludedFromStream ?? false,
      tracks: new Map(),
    };
    this.people.set(p.id, entry);
    this.host.send({ type: 'participant.joined', room: this.name, participant: this.wireParticipant(entry) });
  }

  participantUpdated(id: string, change: { displayName?: string; excludedFromStream?: boolean }): void {
    this.assertOpen();
    const p = this.mustGet(id);
    if (change.displayName !== undefined) p.displayName = String(change.displayName).slice(0, 100);
    if (change.excludedFromStream !== undefined) p.excludedFromStream = change.excludedFromStream;
    this.host.send({
      type: 'participant.updated',
      room: this.name,
      participantId: id,
      displayName: p.displayName,
      excludedFromStream: p.excludedFromStream,
    });
  }

  /** The participant left: their tracks go with them. */
  participantLeft(id: string): void {
    if (this.isClosed) return;
    const p = this.people.get(id);
    if (!p) return;
    for (const t of p.tracks.values()) t.unlisten();
    this.people.delete(id);
    if (this.speaker === id) this.speaker = null;
    this.host.send({ type: 'participant.left', room: this.name, participantId: id });
  }

  /**
   * A producer of this participant on this room's router. `source` defaults to 'mic' for audio and
   * 'camera' for video; pass 'screen' / 'screen-audio' for screen shares (the layout uses it).
   */
  trackAdded(participantId: string, producer: ms.Producer, source?: TrackSource): void {
    this.assertOpen();
    const p = this.mustGet(participantId);
    if (producer.closed) return;
    if (p.tracks.has(producer.id)) return;
    const wire: WireTrack = {
      id: producer.id,
      kind: producer.kind,
      source: source ?? (producer.kind === 'audio' ? 'mic' : 'camera'),
      paused: producer.paused,
    };
    const onPause = () => this.trackPaused(participantId, producer.id);
    const onResume = () => this.trackResumed(participantId, producer.id);
    const onClose = () => this.trackRemoved(participantId, producer.id);
    producer.observer.on('pause', onPause);
    producer.observer.on('resume', onResume);
    producer.observer.on('close', onClose);
    const unlisten = () => {
      producer.observer.off('pause', onPause);
      producer.observer.off('resume', onResume);
      producer.observer.off('close', onClose);
    };
    p.tracks.set(producer.id, { wire, unlisten });
    this.host.send({ type: 'track.added', room: this.name, participantId, track: { ...wire } });
  }

  trackRemoved(participantId: string, producerId: string): void {
    if (this.isClosed) return;
    const t = this.people.get(participantId)?.tracks.get(producerId);
    if (!t) return;
    t.unlisten();
    this.people.get(participantId)?.tracks.delete(producerId);
    this.host.send({ type: 'track.removed', room: this.name, participantId, trackId: producerId });
  }

  /** Only needed for pause state the producer does not carry (producer.pause() is seen by itself). */
  trackPaused(participantId: string, producerId: string): void {
    this.setPaused(participantId, producerId, true);
  }

  trackResumed(participantId: string, producerId: string): void {
    this.setPaused(participantId, producerId, false);
  }

  /** The loudest participant (from the app's ActiveSpeakerObserver), or null. */
  activeSpeaker(participantId: string | null): void {
    if (this.isClosed) return;
    if (participantId !== null && !this.people.has(participantId)) return;
    if (this.speaker === participantId) return;
    this.speaker = participantId;
    this.host.send({ type: 'speaker', room: this.name, participantId });
  }

  /** The room ended on the app's side: the gateway stops any livestream of it. */
  close(reason = 'closed by the app'): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.router.observer.off('close', this.onRouterClose);
    for (const p of this.people.values()) for (const t of p.tracks.values()) t.unlisten();
    this.people.clear();
    this.host.send({ type: 'room.closed', room: this.name, reason: reason.slice(0, 500) });
    this.host.roomClosed(this, reason);
  }

  /** True when the producer was reported by the app for this room (only those may be piped out). */
  hasTrack(producerId: string): boolean {
    for (const p of this.people.values()) if (p.tracks.has(producerId)) return true;
    return false;
  }

  /** The full state, sent after every (re)connect. */
  snapshot(pipes: string[]): RoomStateMessage {
    return {
      type: 'room.state',
      room: this.name,
      participants: [...this.people.values()].map((p) => this.wireParticipant(p)),
      activeSpeaker: this.speaker,
      pipes,
    };
  }

  private setPaused(participantId: string, producerId: string, paused: boolean): void {
    if (this.isClosed) return;
    const t = this.people.get(participantId)?.tracks.get(producerId);
    if (!t || t.wire.paused === paused) return;
    t.wire.paused = paused;
    this.host.send({
      type: paused ? 'track.paused' : 'track.resumed',
      room: this.name,
      participantId,
      trackId: producerId,
    });
  }

  private wireParticipant(p: ParticipantEntry): WireParticipant {
    return {
      id: p.id,
      displayName: p.displayName,
      excludedFromStream: p.excludedFromStream,
      tracks: [...p.tracks.values()].map((t) => ({ ...t.wire })),
    };
  }

  private mustGet(id: string): ParticipantEntry {
    const p = this.people.get(id);
    if (!p)
      throw new Error(
        `roomcast connector: unknown participant "${id}" in room "${this.name}" (call participantJoined first)`,
      );
    return p;
  }

  private assertOpen(): void {
    if (this.isClosed) throw new Error(`roomcast connector: room "${this.name}" is closed`);
  }
}

function checkId(what: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > 128)
    throw new Error(`roomcast connector: ${what} must be a string of 1-128 characters`);
}
