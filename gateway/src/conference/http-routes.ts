import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type Response } from 'express';
import { checkRoomName } from './room-name.ts';

/** Where `npm run build:web` (vite) puts the browser bundles. */
export const WEB_DIST = path.resolve(import.meta.dirname, '../../../dist/web');

// Pages load only same-origin scripts/styles; media comes from WebRTC (blob/mediastream).
// 'self' in connect-src covers the same-origin ws:/wss: signaling socket (CSP level 3).
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob: mediastream:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join('; ');

const HASHED_ASSET = /-[A-Za-z0-9_-]{8}\.(js|css|map|woff2?|svg|png)$/;

/**
 * The lobby (`/`), meeting pages (`/r/<room>`) and their bundles (`/assets/*`). The HTML comes
 * from the vite build; the room name is read by the page from its own URL, so pages are static.
 */
export function conferenceRouter(distDir = WEB_DIST): Router {
  const router = Router();
  const page = (name: string) => loadPage(path.join(distDir, 'gateway/web', `${name}.html`));

  router.use(
    '/assets',
    express.static(distDir, {
      index: false,
      fallthrough: true,
      setHeaders(res, file) {
        // Hashed file names never change content: cache for a year. Others revalidate.
        res.setHeader(
          'Cache-Control',
          HASHED_ASSET.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    }),
  );

  router.get('/', (_req, res) => sendPage(res, 200, page('lobby')));

  router.get('/r/:room', (req, res) => {
    const check = checkRoomName(req.params.room);
    if (!check.ok) {
      sendPage(res, 400, errorPage('Invalid room name', check.message));
      return;
    }
    sendPage(res, 200, page('meeting'));
  });
  return router;
}

function sendPage(res: Response, status: number, html: string): void {
  res
    .status(status)
    .setHeader('Content-Security-Policy', PAGE_CSP)
    .setHeader('Cache-Control', 'no-cache')
    .type('html')
    .send(html);
}

function loadPage(file: string): string {
  // Read per request (tiny files): a rebuild during development is picked up without restart.
  if (!existsSync(file))
    return errorPage('roomcast', 'The web pages are not built yet: run "npm run build:web" and reload.');
  return readFileSync(file, 'utf8');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function errorPage(title: string, message: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(title)} · roomcast</title></head><body>` +
    `<main><h1>${escapeHtml(title)}</h1><p data-testid="error-message">${escapeHtml(message)}</p>` +
    `<p><a href="/">Back to roomcast</a></p></main></body></html>`
  );
}
