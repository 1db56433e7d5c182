import { Router } from 'express';

/** Placeholder home page until the meeting lobby is served. */
export function homeRouter(): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    res
      .type('html')
      .send(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>roomcast</title></head>' +
          '<body><h1>roomcast</h1><p>The livestream gateway is running. See <a href="/healthz">/healthz</a>.</p></body></html>',
      );
  });
  return router;
}
