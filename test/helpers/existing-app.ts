/**
 * Plays "an existing mediasoup app" in its own Node process, for the sidecar tests. It has its
 * own worker and router, its own peer list, and synthetic ffmpeg participants; it talks to
 * roomcast ONLY through the public connector API (`roomcast/connector`).
 *
 * Run: node --import tsx test/helpers/existing-app.ts
 * Env: ROOMCAST_URL, ROOMCAST_SECRET, APP_NAME, ROOM,
 *      PARTICIPANTS='[{"id":"alice-1","name":"Alice","color":"red"}, ...]',
 *      VIDEO_SIZE (default 160x120),
 *      PAGE_PORT + GATEWAY_URL (optional): also serve the app's meeting page on 127.0.0.1:PAGE_PORT,
 *      embedding the gateway's `<roomcast-panel>` with a token the app signs (existing-app-page.ts).
 * Stdout: one JSON object per line: {event:'ready'|'status'|'refused'|'report'|'page', ...}.
 * Stdin: "report" (print peers + transports), "pause <id>" / "resume <id>" (its video), "quit".
 */
import readline from 'node:readline';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { RoomcastConnector } from 'roomcast/connector';
import { startSyntheticSender, type SyntheticProducers } from './synthetic.ts';
import { serveMeetingPage } from './existing-app-page.ts';

interface Peer {
  id: string;
  displayName: string;
  media: SyntheticProducers;
}

const out = (obj: Record<string, unknown>) => process.stdout.write(JSON.stringify(obj) + '\n');
const env = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`existing-app: ${k} is required`);
  return v;
};

const worker = await mediasoup.createWorker({ logLevel: 'error' });
// The app's own codec list (a typical mediasoup-demo set), not the gateway's.
const router = await worker.createRouter({
  mediaCodecs: [
    { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
    { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
  ],
});
const transportsByType: Record<string, number> = {};
router.observer.on('newtransport', (t: ms.Transport) => {
  transportsByType[t.type] = (transportsByType[t.type] ?? 0) + 1;
  t.observer.once('close', () => {
    transportsByType[t.type] = (transportsByType[t.type] ?? 1) - 1;
  });
});

// The app's signaling state: this is what its participants see of each other.
const peers = new Map<string, Peer>();

const link = new RoomcastConnector({
  url: env('ROOMCAST_URL'),
  secret: env('ROOMCAST_SECRET'),
  appName: env('APP_NAME'),
  reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
});
link.on('status', (status) => out({ event: 'status', status }));
link.on('refused', (message) => out({ event: 'refused', message }));

const room = link.registerRoom(env('ROOM'), router);
const wanted = JSON.parse(env('PARTICIPANTS')) as { id: string; name: string; color: string }[];
const videoSize = process.env.VIDEO_SIZE ?? '160x120';
for (const p of wanted) {
  const media = await startSyntheticSender({
    router,
    name: p.name,
    videoInput: ['-f', 'lavfi', '-i', `color=c=${p.color}:size=${videoSize}:rate=15`],
    audioInput: ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
  });
  peers.set(p.id, { id: p.id, displayName: p.name, media });
  room.participantJoined({ id: p.id, displayName: p.name });
  if (media.video) room.trackAdded(p.id, media.video, 'camera');
  if (media.audio) room.trackAdded(p.id, media.audio, 'mic');
}
const page = process.env.PAGE_PORT
  ? await serveMeetingPage({
      port: Number(process.env.PAGE_PORT),
      gatewayUrl: env('GATEWAY_URL'),
      room: env('ROOM'),
      secret: env('ROOMCAST_SECRET'),
      onExclude: (id, excluded) => {
        if (!peers.has(id)) return;
        room.participantUpdated(id, { excludedFromStream: excluded });
        out({ event: 'excluded', id, excluded });
      },
    })
  : undefined;
if (page) out({ event: 'page', url: page.url });
out({ event: 'ready', peers: [...peers.values()].map((p) => ({ id: p.id, displayName: p.displayName })) });

async function quit(): Promise<void> {
  link.close();
  page?.close();
  for (const p of peers.values()) await p.media.close();
  worker.close();
  process.exit(0);
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const cmd = line.trim();
  if (cmd === 'report') {
    out({
      event: 'report',
      peers: [...peers.values()].map((p) => ({ id: p.id, displayName: p.displayName })),
      transports: { ...transportsByType },
      connector: link.status,
    });
  } else if (cmd.startsWith('pause ') || cmd.startsWith('resume ')) {
    // The app's own mute handling: pausing its producer is all it does; the connector notices.
    const [verb, id] = cmd.split(' ');
    const video = id ? peers.get(id)?.media.video : undefined;
    void (verb === 'pause' ? video?.pause() : video?.resume())?.then(() => out({ event: verb!, id }));
  } else if (cmd === 'quit') {
    void quit();
  }
});
rl.on('close', () => void quit());
process.on('SIGTERM', () => void quit());
