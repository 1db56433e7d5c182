import { Router } from 'express';
import type { Config } from '../config/schema.ts';
import type { HlsManager, HlsStatus } from '../hls/hls-manager.ts';
import { isValidPlaybackId } from '../keys/key-rules.ts';

/** What the public status API needs to resolve a playback id (never the key). */
export interface PlaybackLookup {
  byPlaybackId(id: string): { room: string; playbackId: string } | undefined;
}

export interface PublicStreamStatus {
  playbackId: string;
  status: HlsStatus;
  startedAt: string | null;
  endedAt: string | null;
  viewers: number;
  title: string;
  description: string | null;
  poster: string | null;
}

export function streamStatus(
  config: Config,
  keys: PlaybackLookup,
  hls: HlsManager,
  playbackId: string,
): PublicStreamStatus | undefined {
  if (!isValidPlaybackId(playbackId)) return undefined;
  const rec = keys.byPlaybackId(playbackId);
  if (!rec) return undefined;
  const st = hls.status(playbackId);
  const page = config.player.rooms[rec.room] ?? {};
  return {
    playbackId,
    status: st.status,
    startedAt: st.startedAt,
    endedAt: st.endedAt,
    viewers: st.status === 'live' ? hls.viewers.count(playbackId) : 0,
    title: page.title ?? rec.room,
    description: page.description ?? null,
    poster: sameOriginPath(page.poster),
  };
}

/**
 * The player loads nothing from other origins (strict CSP), so a poster must be a path on this
 * server ("/static/poster.jpg"); anything else is dropped.
 */
export function sameOriginPath(p: string | undefined): string | null {
  if (!p || !p.startsWith('/') || p.startsWith('//') || p.includes('\\')) return null;
  return p;
}

/**
 * GET /api/streams/<playbackId>: public status for the player (polled every ~2 s; no-store so
 * caches never hold a stale "offline").
 */
export function streamsRouter(config: Config, keys: PlaybackLookup, hls: HlsManager): Router {
  const router = Router();
  router.get('/api/streams/:playbackId', (req, res) => {
    res.set({ 'Cache-Control': 'no-store', 'Access-Control-Allow-Origin': '*' });
    const st = streamStatus(config, keys, hls, req.params.playbackId);
    if (!st) {
      res.status(404).json({ error: 'not_found', message: 'unknown playback id' });
      return;
    }
    res.json(st);
  });
  return router;
}
