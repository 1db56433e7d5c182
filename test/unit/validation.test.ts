import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HttpError } from '../../gateway/src/api/http-common.ts';
import { parseBody, parseParams } from '../../gateway/src/api/validation.ts';

const body = z.strictObject({
  url: z.string().startsWith('rtmp'),
  streamKey: z.string().optional(),
  tags: z.array(z.object({ name: z.string().min(1) })).default([]),
});

function httpErr(fn: () => unknown): HttpError {
  try {
    fn();
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('validation helpers', () => {
  it('returns parsed data with defaults', () => {
    expect(parseBody(body, { url: 'rtmp://x/app' })).toEqual({ url: 'rtmp://x/app', tags: [] });
  });

  it('throws 400 naming the field (nested paths too)', () => {
    const e1 = httpErr(() => parseBody(body, { url: 5 }));
    expect(e1.status).toBe(400);
    expect(e1.field).toBe('url');
    expect(e1.message).toMatch(/^url: /);
    const e2 = httpErr(() => parseBody(body, { url: 'rtmp://x/a', tags: [{ name: '' }] }));
    expect(e2.field).toBe('tags[0].name');
    const e3 = httpErr(() => parseBody(body, { url: 'rtmp://x/a', extra: 1 }));
    expect(e3.status).toBe(400);
    const e4 = httpErr(() => parseBody(body, undefined));
    expect(e4.field).toBe('url');
  });

  it('reports a non-object body against the container', () => {
    const e = httpErr(() => parseParams(z.object({ room: z.string() }), 'nope'));
    expect(e.field).toBe('params');
  });
});
