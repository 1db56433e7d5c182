import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../gateway/src/cli/roomcast-cli.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'roomcast-cli-'));
const env = {
  ROOMCAST_STORAGE__DATABASE: path.join(dir, 'k.db'),
  ROOMCAST_SERVER__PUBLIC_URL: 'https://live.example.org',
  ROOMCAST_RTMP__PUBLIC_URL: 'rtmp://ingest.example.org/live',
};
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...argv: string[]) {
  let out = '';
  let err = '';
  const code = runCli(argv, { out: (s) => (out += `${s}\n`), err: (s) => (err += `${s}\n`), env });
  return { code, out, err };
}

describe('roomcast keys CLI', () => {
  it('show (json) issues once and prints RTMP URL, playback id and watch URL', () => {
    const a = run('keys', 'show', 'standup', '--json');
    expect(a.code).toBe(0);
    const j = JSON.parse(a.out) as Record<string, string>;
    expect(j.rtmpUrl).toBe(`rtmp://ingest.example.org/live/${j.streamKey}`);
    expect(j.watchUrl).toBe(`https://live.example.org/watch/${j.playbackId}`);
    expect(JSON.parse(run('keys', 'show', 'standup', '--json').out)).toEqual(j);
    const text = run('keys', 'show', 'standup');
    expect(text.out).toContain(j.streamKey);
    expect(text.out).toContain(j.watchUrl);
  });
  it('rotate changes the key, revoke removes it', () => {
    const before = JSON.parse(run('keys', 'show', 'standup', '--json').out) as Record<string, string>;
    const rotated = JSON.parse(run('keys', 'rotate', 'standup', '--json').out) as Record<string, string>;
    expect(rotated.streamKey).not.toBe(before.streamKey);
    expect(rotated.playbackId).toBe(before.playbackId);
    expect(run('keys', 'revoke', 'standup').code).toBe(0);
    expect(run('keys', 'revoke', 'standup').code).toBe(1);
  });
  it('bad arguments: clear message, non-zero exit', () => {
    expect(run().code).toBe(2);
    expect(run('keys', 'show').err).toMatch(/exactly one <room>/);
    expect(run('keys', 'delete', 'x').err).toMatch(/unknown keys action/);
    expect(run('keys', 'show', '../x').err).toMatch(/invalid room name/);
    expect(run('keys', 'show', 'x', '--bogus').code).toBe(2);
    expect(run('keys', 'show', 'x', '--config', path.join(dir, 'missing.yaml')).code).toBe(78);
  });
});
