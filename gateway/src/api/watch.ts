import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Router, type Response } from 'express';
import { isValidPlaybackId } from '../keys/key-rules.ts';
import type { PlaybackLookup } from './streams.ts';

/**
 * Strict CSP for the watch page: only our own scripts/styles; media from our HLS URLs and the
 * blob: URLs MediaSource creates; hls.js fetches with XHR/fetch ('self') and may run its
 * transmuxer in a blob: worker.
 */
export const PLAYER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob:",
  "connect-src 'self' blob:",
  "worker-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'self'",
].join('; ');

const DIST = path.resolve(import.meta.dirname, '../../../dist/web');

/** GET /watch/<playbackId>: the built player page (player/watch.html); unknown ids → 404 page. */
export function watchRouter(keys: PlaybackLookup, distDir = DIST): Router {
  const router = Router();
  // Read per request (a 1 KB file): a rebuild (new asset hashes) is picked up without restart.
  const page = (): string | undefined => {
    const file = path.join(distDir, 'player/watch.html');
    return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  };
  router.get('/watch/:playbackId', (req, res) => {
    res.set({ 'Content-Security-Policy': PLAYER_CSP, 'Cache-Control': 'no-cache' });
    const id = req.params.playbackId;
    if (!isValidPlaybackId(id) || !keys.byPlaybackId(id)) {
      sendNotFound(res);
      return;
    }
    const html = page();
    if (!html) {
      res.status(503).type('text/plain').send('player not built: run npm run build:web');
      return;
    }
    res.type('html').send(html);
  });
  return router;
}

function sendNotFound(res: Response): void {
  res
    .status(404)
    .type('html')
    .send(
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
        '<title>Stream not found</title></head><body><main><h1>Stream not found</h1>' +
        '<p>There is no stream at this address. Check the link you were given.</p></main></body></html>',
    );
}
