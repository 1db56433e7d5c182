import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../log/logger.ts';

/** An error with an HTTP status and a message safe to show the client. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'SAMEORIGIN');
  next();
};

export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json({ error: 'not_found', message: `no route for ${req.method} ${req.path}` });
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (err instanceof HttpError) {
      res.status(err.status).json({ error: statusName(err.status), message: err.message, field: err.field });
      return;
    }
    // body-parser errors (bad JSON, too large) carry a status.
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: statusName(status), message: (err as Error).message });
      return;
    }
    logger.error({ err: err instanceof Error ? err.message : String(err), path: req.path }, 'request failed');
    res.status(500).json({ error: 'internal', message: 'internal error' });
  };
}

function statusName(status: number): string {
  return (
    {
      400: 'bad_request',
      401: 'unauthorized',
      403: 'forbidden',
      404: 'not_found',
      409: 'conflict',
      413: 'too_large',
      429: 'rate_limited',
    }[status] ?? 'error'
  );
}
