import type { EventEmitter } from 'node:events';
import type { RtpReceiveStream } from '../rtp/sdp.ts';

/**
 * What the livestream pipeline needs from a conference room, whoever hosts it: the embedded
 * conference (in-process) or an existing mediasoup app (sidecar). The gateway is a hidden
 * participant: consuming through a RoomSource never makes it visible to the room's peers.
 */

export type TrackSource = 'camera' | 'mic' | 'screen' | 'screen-audio';

export interface TrackInfo {
  /** Stable id of the track within the room (the mediasoup producer id). */
  id: string;
  kind: 'audio' | 'video';
  source: TrackSource;
  /** Paused by its sender (camera off / mic muted). */
  paused: boolean;
}

export interface ParticipantInfo {
  id: string;
  displayName: string;
  tracks: TrackInfo[];
  /** The participant chose "don't show me": leave their audio and video out of the stream. */
  excludedFromStream: boolean;
}

export interface RoomSourceEvents {
  participantJoined: [participant: ParticipantInfo];
  participantLeft: [participantId: string];
  /** Display name or stream opt-out changed. */
  participantUpdated: [participant: ParticipantInfo];
  trackAdded: [participantId: string, track: TrackInfo];
  trackRemoved: [participantId: string, trackId: string];
  trackPaused: [participantId: string, trackId: string];
  trackResumed: [participantId: string, trackId: string];
  activeSpeakerChanged: [participantId: string | null];
  /** The room is gone (last person left and the grace period passed, or the app disconnected for good). */
  closed: [reason: string];
  /**
   * Sidecar rooms only: the link to the app hosting the room was lost. Consumed tracks stay open
   * (media may keep flowing through surviving pipes); a livestream shows `reconnecting`.
   */
  interrupted: [reason: string];
  /** Sidecar rooms only: the app is back and the room state was resynced. */
  restored: [];
}

/** Where a consumed track's RTP should be sent (an ffmpeg receiver on this host, usually). */
export interface RtpDestination {
  ip: string;
  port: number;
  /** RTCP goes to a separate port (ffmpeg does not do rtcp-mux). */
  rtcpPort: number;
}

export interface ConsumedTrackEvents {
  /** The track ended at its source (producer closed) or the consumer was closed. */
  closed: [];
  /** Pause state at the source changed. */
  paused: [];
  resumed: [];
}

/** A server-side consumer sending one track as plain RTP to a destination. */
export interface ConsumedTrack extends EventEmitter<ConsumedTrackEvents> {
  readonly trackId: string;
  readonly kind: 'audio' | 'video';
  /** Codec + port description for the receiver's SDP. */
  readonly receive: RtpReceiveStream;
  readonly closed: boolean;
  /** Starts the flow (consumers are created paused so the receiver can bind first). */
  start(): Promise<void>;
  /** Asks the sender for a keyframe (PLI/FIR); call whenever a decoder (re)starts. */
  requestKeyFrame(): Promise<void>;
  /** Bytes sent so far (for "no media" detection). */
  bytesSent(): Promise<number>;
  close(): void;
}

export interface RoomSource extends EventEmitter<RoomSourceEvents> {
  /** Room name (the conference's identity: keys and playback ids hang off it). */
  readonly name: string;
  readonly closed: boolean;
  participants(): ParticipantInfo[];
  activeSpeaker(): string | null;
  /** Consume one track server-side to an RTP destination (hidden participant). */
  consume(trackId: string, destination: RtpDestination): Promise<ConsumedTrack>;
}
