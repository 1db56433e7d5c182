import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LivestreamState } from '../../gateway/src/livestream/livestream.ts';
import { layout } from '../../gateway/src/compositor/layout.ts';
import { OwnedProcess } from '../../gateway/src/process/owned-process.ts';
import { DEFAULT_OUTPUT } from '../../gateway/src/config/schema.ts';
import type { Rgb } from '../helpers/synthetic-room.ts';
import { colorClose, frameAt } from '../helpers/rtmp-receiver.ts';
import { probe } from '../helpers/ffprobe.ts';
import { LivestreamFixture, goLive } from '../helpers/livestream-fixture.ts';
import { waitFor } from '../helpers/net.ts';

// The gateway's default output: 1280x720, 30 fps.
const OUTPUT = DEFAULT_OUTPUT;

const PEOPLE: { id: string; name: string; color: Rgb; toneHz: number }[] = [
  { id: 'p1', name: 'Ada Lovelace', color: [220, 40, 40], toneHz: 330 },
  { id: 'p2', name: 'Bob', color: [40, 200, 60], toneHz: 440 },
  { id: 'p3', name: 'Cy', color: [40, 80, 220], toneHz: 550 },
  { id: 'p4', name: 'Dee', color: [230, 210, 40], toneHz: 660 },
];

// 4 synthetic participants (distinct colour + tone) in a grid → the Livestream → RTMP → an
// ffmpeg listener's file. The file must hold 720p30 H.264 + AAC and each grid cell the colour of
// its participant.
describe('livestream composition', () => {
  let fx: LivestreamFixture;
  const states: LivestreamState[] = [];

  beforeAll(async () => {
    fx = await LivestreamFixture.start();
    for (const p of PEOPLE) await fx.room.join(p.id, { name: p.name, color: p.color, toneHz: p.toneHz });
  });

  afterAll(async () => {
    await fx?.close();
  });

  it('publishes one 1280x720 H.264 + AAC stream with each participant in its grid tile', async () => {
    const { room, rx } = fx;
    const live = fx.livestream(OUTPUT);
    live.on('state', (s) => states.push(s));
    await goLive(live, 'livestream live');
    // Every participant's video has reached the compositor, then record a few seconds more.
    await waitFor(
      'first frames of all participants',
      () => live.stats().participants.every((p) => p.firstVideoFrameMs !== null && p.firstAudioMs !== null),
      20_000,
    );
    await new Promise((r) => setTimeout(r, 4000));
    const stats = live.stats();
    await live.stop();
    expect(states).toEqual(['starting', 'live', 'stopped']);
    // No child left behind, no consumer left open.
    expect(OwnedProcess.liveProcesses().filter((p) => /decoder|encoder/.test(p.name))).toEqual([]);
    expect(room.openConsumers()).toBe(0);
    expect(stats.encoderRestarts).toBe(0);

    await rx.stop();
    expect(rx.connections).toBe(1);
    const file = rx.files[0]!;
    const info = await probe(file);
    const v = info.streams.find((s) => s.codecType === 'video');
    const a = info.streams.find((s) => s.codecType === 'audio');
    expect(v).toMatchObject({ codecName: 'h264', width: 1280, height: 720 });
    expect(a?.codecName).toBe('aac');
    const [num, den] = (v?.avgFrameRate ?? '0/1').split('/').map(Number);
    expect(Math.round(num! / den!)).toBe(30);
    expect(v?.frames ?? 0).toBeGreaterThan(30 * 4);

    // Pixel check near the end, when all decoders have delivered.
    const tiles = layout(
      PEOPLE.map((p) => ({ id: p.id, participantId: p.id, kind: 'camera' as const })),
      'grid',
      OUTPUT,
    );
    const end = (info.duration ?? 0) - 1;
    const frame = await frameAt(file, end, OUTPUT.width, OUTPUT.height);
    for (const p of PEOPLE) {
      const t = tiles.find((x) => x.id === p.id)!;
      // Upper third of the tile: clear of the name label (bottom-left).
      for (const [fx, fy] of [
        [0.5, 0.3],
        [0.25, 0.25],
        [0.75, 0.4],
      ] as const) {
        const px = frame.pixel(t.x + t.width * fx, t.y + t.height * fy);
        expect(colorClose(px, p.color), `${p.name} at ${fx},${fy}: got ${px.join(',')}`).toBe(true);
      }
    }
  });
});
