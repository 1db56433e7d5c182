import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactText } from '../../gateway/src/log/logger.ts';

describe('secret redaction', () => {
  it('masks stream keys in RTMP URLs and token query parameters', () => {
    expect(redactText('Opening rtmp://127.0.0.1:1935/live/s3cr3tKEY for writing')).toBe(
      'Opening rtmp://127.0.0.1:1935/live/[REDACTED] for writing',
    );
    expect(redactText('rtmps://a.rtmp.youtube.com/live2/abcd-efgh')).toBe(
      'rtmps://a.rtmp.youtube.com/live2/[REDACTED]',
    );
    expect(redactText('GET /x?token=abc&room=r')).toBe('GET /x?token=[REDACTED]&room=r');
  });

  it('the logger never writes secret fields', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = createLogger('info', sink);
    log.info({ streamKey: 'k-123456', room: 'r', dest: { key: 'yt-key' }, moderatorToken: 'mt-999' }, 'x');
    const out = lines.join('');
    expect(out).toContain('"room":"r"');
    expect(out).not.toContain('k-123456');
    expect(out).not.toContain('yt-key');
    expect(out).not.toContain('mt-999');
  });
});
