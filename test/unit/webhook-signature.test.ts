import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { signWebhook, verifyWebhookSignature } from '../../gateway/src/api/webhooks.ts';

const secret = 'a-secret-of-at-least-16';
const body = '{"id":"1","type":"livestream.started"}';

describe('webhook signatures', () => {
  it('is sha256=<hex HMAC of "<timestamp>.<body>">', () => {
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(signWebhook(secret, '1700000000', body)).toBe(`sha256=${expected}`);
  });

  it('verifies good signatures and refuses tampering, wrong secret and stale timestamps', () => {
    const ts = '1700000000';
    const sig = signWebhook(secret, ts, body);
    const ok = { secret, body, timestamp: ts, signature: sig, nowSeconds: 1700000010 };
    expect(verifyWebhookSignature(ok)).toBe(true);
    expect(verifyWebhookSignature({ ...ok, body: Buffer.from(body) })).toBe(true);
    expect(verifyWebhookSignature({ ...ok, body: body.replace('started', 'ended') })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, secret: 'another-secret-xxxxxx' })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, timestamp: '1700000001' })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, nowSeconds: 1700001000 })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, signature: undefined })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, signature: 'sha256=00' })).toBe(false);
  });
});
