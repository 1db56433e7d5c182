// Pure logic of the watch page: what to show for a status, how to format readouts.

// The wire types are the server's own (type-only imports: nothing of the server is bundled).
import type { HlsStatus } from '../gateway/src/hls/hls-manager.ts';
import type { PublicStreamStatus } from '../gateway/src/api/streams.ts';

export type StreamStatus = HlsStatus;

/** Body of the public status API (GET /api/streams/:playbackId). */
export type StatusResponse = PublicStreamStatus;

export function isStatusResponse(v: unknown): v is StatusResponse {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    (o.status === 'live' || o.status === 'offline' || o.status === 'ended') &&
    typeof o.title === 'string' &&
    typeof o.viewers === 'number'
  );
}

/** The playback id from /watch/<id> (null if the path is not a watch URL). */
export function playbackIdFromPath(pathname: string): string | null {
  const m = /^\/watch\/([A-Za-z0-9_-]{16})\/?$/.exec(pathname);
  return m?.[1] ?? null;
}

export function messageFor(status: StreamStatus): string {
  switch (status) {
    case 'offline':
      return 'The stream has not started yet. This page will start playing by itself when it goes live.';
    case 'ended':
      return 'The stream has ended. Thanks for watching.';
    case 'live':
      return 'Loading the live stream…';
  }
}

export function formatViewers(n: number): string {
  return `${n} ${n === 1 ? 'viewer' : 'viewers'}`;
}

export function formatLatency(seconds: number | null | undefined): string | null {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return null;
  return `${seconds.toFixed(1)} s behind live`;
}
