import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';

// A minimal raw RTMP client for tests: plain handshake, connect/createStream/publish|play sent
// without waiting for any answer, FLV tags as RTMP messages; the viewer side parses the chunk
// stream and counts audio/video payload bytes. Used to play a publisher that ignores the
// server's close (it keeps writing until the socket is really gone).

// ---- AMF0 (just what the commands need) ----
type Amf = string | number | null | boolean | { [k: string]: Amf };
function amf(v: Amf): Buffer {
  if (v === null) return Buffer.from([0x05]);
  if (typeof v === 'number') {
    const b = Buffer.alloc(9);
    b[0] = 0x00;
    b.writeDoubleBE(v, 1);
    return b;
  }
  if (typeof v === 'boolean') return Buffer.from([0x01, v ? 1 : 0]);
  if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf8');
    const b = Buffer.alloc(3);
    b[0] = 0x02;
    b.writeUInt16BE(s.length, 1);
    return Buffer.concat([b, s]);
  }
  const parts: Buffer[] = [Buffer.from([0x03])];
  for (const [k, val] of Object.entries(v)) {
    const kb = Buffer.from(k, 'utf8');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(kb.length);
    parts.push(len, kb, amf(val));
  }
  parts.push(Buffer.from([0x00, 0x00, 0x09]));
  return Buffer.concat(parts);
}
const cmd = (...vals: Amf[]) => Buffer.concat(vals.map(amf));

const OUT_CHUNK = 60000;

/** One RTMP message as a single chunk (payload ≤ OUT_CHUNK after set-chunk-size). */
function message(csid: number, type: number, streamId: number, ts: number, payload: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  const h = Buffer.alloc(12);
  h[0] = csid & 0x3f;
  h.writeUIntBE(Math.min(ts, 0xffffff), 1, 3);
  h.writeUIntBE(payload.length, 4, 3);
  h[7] = type;
  h.writeUInt32LE(streamId, 8);
  chunks.push(h);
  for (let off = 0; off < payload.length; off += OUT_CHUNK) {
    if (off > 0) chunks.push(Buffer.from([0xc0 | (csid & 0x3f)]));
    chunks.push(payload.subarray(off, off + OUT_CHUNK));
  }
  return chunks;
}

export interface FlvTag {
  type: number;
  ts: number;
  data: Buffer;
}

/** Reads the tags of an FLV file (9-byte header, then tag + previous-tag-size pairs). */
export function readFlvTags(file: string): FlvTag[] {
  const buf = readFileSync(file);
  const tags: FlvTag[] = [];
  let p = buf.readUInt32BE(5) + 4;
  while (p + 11 <= buf.length) {
    const type = buf[p] as number;
    const size = buf.readUIntBE(p + 1, 3);
    const ts = buf.readUIntBE(p + 4, 3) | ((buf[p + 7] as number) << 24);
    if (p + 11 + size > buf.length) break;
    tags.push({ type, ts, data: buf.subarray(p + 11, p + 11 + size) });
    p += 11 + size + 4;
  }
  return tags;
}

/** A small real H.264+AAC FLV (2 s) made with ffmpeg, for the raw publisher. */
export function makeTestFlv(file: string): FlvTag[] {
  execFileSync('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=15',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-t',
    '2',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '15',
    '-c:a',
    'aac',
    '-b:a',
    '64k',
    '-f',
    'flv',
    file,
  ]);
  return readFlvTags(file);
}

async function handshake(host: string, port: number): Promise<net.Socket> {
  const socket = net.connect(port, host);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const c1 = Buffer.concat([Buffer.alloc(8), randomBytes(1528)]);
  socket.write(Buffer.concat([Buffer.from([0x03]), c1]));
  const s0s1s2 = await readExactly(socket, 1 + 1536 + 1536);
  socket.write(s0s1s2.subarray(1, 1537)); // C2 = S1
  return socket;
}

function readExactly(socket: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= n) {
        socket.off('data', onData);
        socket.off('error', reject);
        if (got.length > n) socket.unshift(got.subarray(n));
        resolve(got.subarray(0, n));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

function connectCommands(host: string, port: number, app: string): Buffer[] {
  const setChunk = Buffer.alloc(4);
  setChunk.writeUInt32BE(OUT_CHUNK);
  return [
    ...message(2, 1, 0, 0, setChunk),
    ...message(
      3,
      20,
      0,
      0,
      cmd('connect', 1, {
        app,
        type: 'nonprivate',
        tcUrl: `rtmp://${host}:${port}/${app}`,
        flashVer: 'FMLE/3.0',
      }),
    ),
    ...message(3, 20, 0, 0, cmd('createStream', 2, null)),
  ];
}

export interface RawPublisherResult {
  /** FLV tags written into the socket after the publish command. */
  tagsWritten: number;
  bytesWritten: number;
  /** The socket failed (reset/closed by the server) before we stopped. */
  cutOff: boolean;
}

/**
 * Publishes `tags` in a loop for `durationMs`, never reading the socket and never waiting for a
 * reply: the publish command and the first burst of media go out in one write, then a tag every
 * `intervalMs`, until the duration is over or a write fails.
 */
export async function rawPublish(opts: {
  host: string;
  port: number;
  app: string;
  streamName: string;
  tags: FlvTag[];
  durationMs: number;
  intervalMs?: number;
  burst?: number;
}): Promise<RawPublisherResult> {
  const socket = await handshake(opts.host, opts.port);
  socket.on('data', () => {}); // drained, ignored
  let failed = false;
  socket.on('error', () => (failed = true));
  socket.on('close', () => (failed = true));
  let tagsWritten = 0;
  let bytesWritten = 0;
  let i = 0;
  let loopOffset = 0;
  const nextTag = (): Buffer[] => {
    const tags = opts.tags;
    const t = tags[i % tags.length] as FlvTag;
    if (i > 0 && i % tags.length === 0) loopOffset += (tags[tags.length - 1] as FlvTag).ts + 40;
    i++;
    const csid = t.type === 8 ? 4 : t.type === 9 ? 6 : 5;
    tagsWritten++;
    return message(csid, t.type, 1, t.ts + loopOffset, t.data);
  };
  const first: Buffer[] = [
    ...connectCommands(opts.host, opts.port, opts.app),
    ...message(8, 20, 1, 0, cmd('publish', 3, null, opts.streamName, 'live')),
  ];
  for (let k = 0; k < (opts.burst ?? 40); k++) first.push(...nextTag());
  const firstBuf = Buffer.concat(first);
  socket.write(firstBuf);
  bytesWritten += firstBuf.length;
  const end = Date.now() + opts.durationMs;
  while (Date.now() < end && !failed) {
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
    if (failed || socket.destroyed) break;
    const b = Buffer.concat(nextTag());
    socket.write(b);
    bytesWritten += b.length;
  }
  const cutOff = failed || socket.destroyed;
  socket.destroy();
  return { tagsWritten, bytesWritten, cutOff };
}

export interface RawViewer {
  /** Audio/video message payload bytes received so far. */
  mediaBytes(): number;
  mediaMessages(): number;
  closed(): boolean;
  close(): void;
}

/** Connects and plays `streamName`, counting audio (8) / video (9) payload bytes. */
export async function rawPlay(opts: {
  host: string;
  port: number;
  app: string;
  streamName: string;
}): Promise<RawViewer> {
  const socket = await handshake(opts.host, opts.port);
  let buf = Buffer.alloc(0);
  let inChunk = 128;
  let media = 0;
  let messages = 0;
  let isClosed = false;
  const chans = new Map<number, { len: number; type: number; parts: Buffer[]; remaining: number }>();
  const onMessage = (type: number, payload: Buffer) => {
    if (type === 1) inChunk = payload.readUInt32BE(0) & 0x7fffffff;
    if (type === 8 || type === 9) {
      media += payload.length;
      messages++;
    }
  };
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      if (buf.length < 1) return;
      const b0 = buf[0] as number;
      const fmt = b0 >> 6;
      let csid = b0 & 0x3f;
      let p = 1;
      if (csid === 0) {
        if (buf.length < 2) return;
        csid = 64 + (buf[1] as number);
        p = 2;
      } else if (csid === 1) {
        if (buf.length < 3) return;
        csid = 64 + (buf[1] as number) + (buf[2] as number) * 256;
        p = 3;
      }
      const mh = [11, 7, 3, 0][fmt] as number;
      if (buf.length < p + mh) return;
      const st = chans.get(csid) ?? { len: 0, type: 0, parts: [], remaining: 0 };
      let ts = 0;
      if (fmt <= 2) ts = buf.readUIntBE(p, 3);
      if (fmt <= 1) {
        st.len = buf.readUIntBE(p + 3, 3);
        st.type = buf[p + 6] as number;
      }
      let hdr = p + mh;
      if (fmt <= 2 && ts === 0xffffff) hdr += 4;
      if (st.remaining === 0) {
        st.remaining = st.len;
        st.parts = [];
      }
      const n = Math.min(inChunk, st.remaining);
      if (buf.length < hdr + n) return;
      st.parts.push(buf.subarray(hdr, hdr + n));
      st.remaining -= n;
      buf = buf.subarray(hdr + n);
      chans.set(csid, st);
      if (st.remaining === 0) onMessage(st.type, Buffer.concat(st.parts));
    }
  });
  socket.on('error', () => {});
  socket.on('close', () => (isClosed = true));
  socket.write(
    Buffer.concat([
      ...connectCommands(opts.host, opts.port, opts.app),
      ...message(8, 20, 1, 0, cmd('play', 3, null, opts.streamName)),
    ]),
  );
  return {
    mediaBytes: () => media,
    mediaMessages: () => messages,
    closed: () => isClosed,
    close: () => socket.destroy(),
  };
}
