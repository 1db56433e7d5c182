import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Router, type Response } from 'express';
import type { HlsManager } from './hls-manager.ts';
import { hlsHeaders, parseHlsRequest } from './hls-paths.ts';

/** GET /hls/<playbackId>/index.m3u8 and /hls/<playbackId>/<segment>.ts. */
export function hlsRouter(hls: HlsManager): Router {
  const router = Router();
  router.options('/hls/:playbackId/:file', (_req, res) => {
    res
      .set({
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
        'Access-Control-Max-Age': '86400',
      })
      .status(204)
      .end();
  });
  router.get('/hls/:playbackId/:file', async (req, res) => {
    const parsed = parseHlsRequest(req.params.playbackId, req.params.file);
    if (!parsed || !hls.hasFiles(parsed.playbackId)) {
      notFound(res);
      return;
    }
    let body: Buffer;
    try {
      body = await readFile(path.join(hls.dirFor(parsed.playbackId), parsed.file));
    } catch {
      notFound(res);
      return;
    }
    if (parsed.kind === 'playlist')
      hls.viewers.hit(parsed.playbackId, req.query.sid, req.socket.remoteAddress, req.get('user-agent'));
    res.set(hlsHeaders(parsed.kind)).status(200).send(body);
  });
  // Anything else under /hls (traversal attempts, extra path parts): a plain 404.
  router.use('/hls', (_req, res) => notFound(res));
  return router;
}

function notFound(res: Response): void {
  res.status(404).set('Access-Control-Allow-Origin', '*').type('text/plain').send('not found');
}
