import type { RequestHandler } from 'express';
import type { z } from 'zod';
import { HttpError } from './http-common.ts';

/**
 * Request validation with zod at the edge: the first issue becomes HttpError(400) whose message
 * names the field ("body.url: Invalid URL") and whose `field` is its dotted path ("url").
 */

export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');
}

/** Parses `value` with `schema`; throws HttpError(400, …, field) on the first issue. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, where = 'body'): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue ? fieldPath(issue.path) : '';
  const message = issue?.message ?? 'invalid input';
  throw new HttpError(400, field ? `${field}: ${message}` : `${where}: ${message}`, field || where);
}

export const parseBody = <S extends z.ZodType>(schema: S, value: unknown): z.output<S> =>
  parseOrThrow(schema, value ?? {}, 'body');
export const parseParams = <S extends z.ZodType>(schema: S, value: unknown): z.output<S> =>
  parseOrThrow(schema, value, 'params');
export const parseQuery = <S extends z.ZodType>(schema: S, value: unknown): z.output<S> =>
  parseOrThrow(schema, value, 'query');

/** Middleware: replaces req.body with the parsed value (defaults applied) or fails with 400. */
export function validateBody<S extends z.ZodType>(schema: S): RequestHandler {
  return (req, _res, next) => {
    try {
      req.body = parseBody(schema, req.body);
      next();
    } catch (err) {
      next(err);
    }
  };
}
