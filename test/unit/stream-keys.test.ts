import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  generatePlaybackId,
  generateStreamKey,
  hashStreamKey,
  isValidPlaybackId,
  isValidRoomName,
  isValidStreamKeyFormat,
  keysEqual,
} from '../../gateway/src/keys/key-rules.ts';
import { KeyStore, KeyStoreError } from '../../gateway/src/keys/key-store.ts';

describe('key rules', () => {
  it('stream keys are 256-bit base64url, all different', () => {
    const keys = new Set(Array.from({ length: 1000 }, generateStreamKey));
    expect(keys.size).toBe(1000);
    for (const k of keys) {
      expect(k).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(k, 'base64url').length).toBe(32);
      expect(isValidStreamKeyFormat(k)).toBe(true);
    }
  });

  it('playback ids are 16 base64url chars and are not keys', () => {
    const id = generatePlaybackId();
    expect(isValidPlaybackId(id)).toBe(true);
    expect(isValidStreamKeyFormat(id)).toBe(false);
    expect(isValidPlaybackId(generateStreamKey())).toBe(false);
  });

  it('rejects malformed keys, ids and room names', () => {
    for (const bad of [
      '',
      'short',
      `${generateStreamKey()}x`,
      `${generateStreamKey().slice(0, 42)}/`,
      42,
      null,
    ])
      expect(isValidStreamKeyFormat(bad)).toBe(false);
    for (const bad of ['../../etc/passwd', 'AAAAAAAAAAAAAAA', 'AAAAAAAAAAAAAAA.', '%2e%2eAAAAAAAAAAAA'])
      expect(isValidPlaybackId(bad)).toBe(false);
    for (const bad of ['', '..', '.hidden', 'a/b', 'a b', 'x'.repeat(65), 'a..b'])
      expect(isValidRoomName(bad)).toBe(false);
    for (const good of ['standup', 'team-1', 'Room_2.b']) expect(isValidRoomName(good)).toBe(true);
  });

  it('keysEqual is exact (equal, differing last char, differing length)', () => {
    const k = generateStreamKey();
    expect(keysEqual(k, k)).toBe(true);
    expect(keysEqual(k, `${k.slice(0, -1)}${k.endsWith('A') ? 'B' : 'A'}`)).toBe(false);
    expect(keysEqual(k, k.slice(0, -1))).toBe(false);
    expect(keysEqual('', k)).toBe(false);
  });

  it('hashStreamKey is SHA-256 hex', () => {
    expect(hashStreamKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('KeyStore', () => {
  const dirs: string[] = [];
  const fileStore = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'roomcast-keys-'));
    dirs.push(d);
    return path.join(d, 'nested', 'dir', 'keys.db');
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('issues a key and playback id on first use, then returns the same', () => {
    const s = new KeyStore(':memory:');
    const a = s.getOrCreate('standup');
    expect(isValidStreamKeyFormat(a.streamKey)).toBe(true);
    expect(isValidPlaybackId(a.playbackId)).toBe(true);
    expect(s.getOrCreate('standup')).toEqual(a);
    expect(s.getOrCreate('other').streamKey).not.toBe(a.streamKey);
    expect(s.byStreamKey(a.streamKey)?.room).toBe('standup');
    expect(s.byPlaybackId(a.playbackId)?.room).toBe('standup');
    s.close();
  });

  it('rotate: old key refused at once, new key accepted, playback id kept', () => {
    const s = new KeyStore(':memory:');
    const a = s.getOrCreate('standup');
    const b = s.rotate('standup');
    expect(b.streamKey).not.toBe(a.streamKey);
    expect(b.playbackId).toBe(a.playbackId);
    expect(b.rotatedAt).not.toBeNull();
    expect(s.byStreamKey(a.streamKey)).toBeUndefined();
    expect(s.byStreamKey(b.streamKey)?.room).toBe('standup');
    s.close();
  });

  it('revoke: key and playback id stop resolving; next use issues new ones', () => {
    const s = new KeyStore(':memory:');
    const a = s.getOrCreate('standup');
    expect(s.revoke('standup')).toBe(true);
    expect(s.revoke('standup')).toBe(false);
    expect(s.byStreamKey(a.streamKey)).toBeUndefined();
    expect(s.byPlaybackId(a.playbackId)).toBeUndefined();
    const c = s.getOrCreate('standup');
    expect(c.streamKey).not.toBe(a.streamKey);
    expect(c.playbackId).not.toBe(a.playbackId);
    s.close();
  });

  it('a key differing in one character, or malformed, finds nothing', () => {
    const s = new KeyStore(':memory:');
    const a = s.getOrCreate('standup');
    const flipped = `${a.streamKey.slice(0, -1)}${a.streamKey.endsWith('A') ? 'B' : 'A'}`;
    expect(s.byStreamKey(flipped)).toBeUndefined();
    expect(s.byStreamKey(`${a.streamKey}'--`)).toBeUndefined();
    expect(s.byStreamKey('')).toBeUndefined();
    s.close();
  });

  it('refuses bad room names with a clear error', () => {
    const s = new KeyStore(':memory:');
    expect(() => s.getOrCreate('../x')).toThrow(KeyStoreError);
    expect(() => s.rotate('')).toThrow(/invalid room name/);
    s.close();
  });

  it('persists across reopen (creates parent dirs, WAL, file mode 0600)', () => {
    const file = fileStore();
    const s1 = new KeyStore(file);
    const a = s1.getOrCreate('standup');
    s1.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const s2 = new KeyStore(file);
    expect(s2.byRoom('standup')).toEqual(a);
    expect(s2.byStreamKey(a.streamKey)?.room).toBe('standup');
    s2.close();
  });
});
