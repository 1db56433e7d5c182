import { isValidPlaybackId } from '../keys/key-rules.ts';

// Pure validation of /hls/<playbackId>/<file> (after Express decoded the params: an encoded
// "..%2F" arrives here as "../" and fails the patterns, as does anything but our own names).

export const PLAYLIST_NAME = 'index.m3u8';
const SEGMENT_RE = /^[A-Za-z0-9_-]{1,64}\.ts$/;

export type HlsFile = { playbackId: string; file: string; kind: 'playlist' | 'segment' };

export function parseHlsRequest(playbackId: unknown, file: unknown): HlsFile | null {
  if (!isValidPlaybackId(playbackId) || typeof file !== 'string') return null;
  if (file === PLAYLIST_NAME) return { playbackId, file, kind: 'playlist' };
  if (SEGMENT_RE.test(file)) return { playbackId, file, kind: 'segment' };
  return null;
}

export function hlsHeaders(kind: HlsFile['kind']): Record<string, string> {
  return kind === 'playlist'
    ? {
        'Content-Type': 'application/vnd.apple.mpegurl',
        // Live playlists change every segment: always revalidate.
        'Cache-Control': 'no-cache',
        'Access-Control-Allow-Origin': '*',
      }
    : {
        'Content-Type': 'video/mp2t',
        // A segment never changes once listed; short max-age because it is deleted later (privacy).
        'Cache-Control': 'public, max-age=60, immutable',
        'Access-Control-Allow-Origin': '*',
      };
}
