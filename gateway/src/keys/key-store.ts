import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  generatePlaybackId,
  generateStreamKey,
  hashStreamKey,
  isValidPlaybackId,
  isValidRoomName,
  isValidStreamKeyFormat,
  keysEqual,
} from './key-rules.ts';

/** One conference's publish credentials. `streamKey` is a secret: never log this object. */
export interface StreamKeyRecord {
  room: string;
  streamKey: string;
  playbackId: string;
  createdAt: string;
  rotatedAt: string | null;
}

interface Row {
  room: string;
  stream_key: string;
  key_hash: string;
  playback_id: string;
  created_at: string;
  rotated_at: string | null;
}

export class KeyStoreError extends Error {}

/**
 * SQLite store of stream keys (one per room) and public playback ids. The key is stored in
 * clear because moderators must be able to read it back (the meeting UI and `roomcast keys show`
 * display it); the database file is created 0600. Lookups by key go through the key's SHA-256
 * (indexed), then a constant-time compare of the stored key.
 */
export class KeyStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    const fresh = file !== ':memory:' && !existsSync(file);
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    // Keys are readable secrets: the file is for the gateway's user only.
    if (fresh) chmodSync(file, 0o600);
    if (file !== ':memory:') this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS stream_keys (
      room TEXT PRIMARY KEY,
      stream_key TEXT NOT NULL,
      key_hash TEXT NOT NULL UNIQUE,
      playback_id TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL,
      rotated_at TEXT
    )`);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** The room's record, created on first use. */
  getOrCreate(room: string): StreamKeyRecord {
    assertRoom(room);
    const existing = this.byRoom(room);
    if (existing) return existing;
    const now = new Date().toISOString();
    const key = generateStreamKey();
    // INSERT OR IGNORE: two processes (gateway + CLI) racing on first use end with one record.
    this.db
      .prepare(
        'INSERT OR IGNORE INTO stream_keys (room, stream_key, key_hash, playback_id, created_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(room, key, hashStreamKey(key), generatePlaybackId(), now);
    return this.byRoom(room) as StreamKeyRecord;
  }

  /** A new key for the room (the old one is refused from now on); the playback id stays. */
  rotate(room: string): StreamKeyRecord {
    assertRoom(room);
    this.getOrCreate(room);
    const key = generateStreamKey();
    this.db
      .prepare('UPDATE stream_keys SET stream_key = ?, key_hash = ?, rotated_at = ? WHERE room = ?')
      .run(key, hashStreamKey(key), new Date().toISOString(), room);
    return this.byRoom(room) as StreamKeyRecord;
  }

  /** Deletes the room's key and playback id. Returns false if the room had none. */
  revoke(room: string): boolean {
    assertRoom(room);
    return this.db.prepare('DELETE FROM stream_keys WHERE room = ?').run(room).changes > 0;
  }

  byRoom(room: string): StreamKeyRecord | undefined {
    if (!isValidRoomName(room)) return undefined;
    const row = this.db.prepare('SELECT * FROM stream_keys WHERE room = ?').get(room) as Row | undefined;
    return row && toRecord(row);
  }

  /** The record whose key equals `key` (constant-time check), else undefined. */
  byStreamKey(key: string): StreamKeyRecord | undefined {
    if (!isValidStreamKeyFormat(key)) return undefined;
    const row = this.db.prepare('SELECT * FROM stream_keys WHERE key_hash = ?').get(hashStreamKey(key)) as
      Row | undefined;
    if (!row || !keysEqual(row.stream_key, key)) return undefined;
    return toRecord(row);
  }

  byPlaybackId(playbackId: string): StreamKeyRecord | undefined {
    if (!isValidPlaybackId(playbackId)) return undefined;
    const row = this.db.prepare('SELECT * FROM stream_keys WHERE playback_id = ?').get(playbackId) as
      Row | undefined;
    return row && toRecord(row);
  }
}

function assertRoom(room: string): void {
  if (!isValidRoomName(room))
    throw new KeyStoreError(
      `invalid room name ${JSON.stringify(String(room).slice(0, 80))}: use 1-64 of A-Z a-z 0-9 _ . - (starting with a letter or digit)`,
    );
}

function toRecord(row: Row): StreamKeyRecord {
  return {
    room: row.room,
    streamKey: row.stream_key,
    playbackId: row.playback_id,
    createdAt: row.created_at,
    rotatedAt: row.rotated_at,
  };
}
