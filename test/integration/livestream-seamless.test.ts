import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layout, type LayoutItem, type LayoutMode } from '../../gateway/src/compositor/layout.ts';
import type { Rgb } from '../helpers/synthetic-room.ts';
import { colorClose, frameAt, maxGap, monoPcm8k, packets } from '../helpers/rtmp-receiver.ts';
import {
  LivestreamFixture,
  SMALL_OUTPUT as OUTPUT,
  goLive,
  waitForAllVideo,
} from '../helpers/livestream-fixture.ts';

const COLORS: Record<string, Rgb> = {
  p1: [220, 40, 40],
  p2: [40, 200, 60],
  p3: [40, 80, 220],
  p4: [230, 210, 40],
  'p1:screen': [200, 40, 200],
};
const TONES: Record<string, number> = { p1: 330, p2: 440, p3: 550, p4: 660 };

interface Check {
  /** Output time (s) to look at. */
  at: number;
  label: string;
  items: LayoutItem[];
  mode: LayoutMode;
  speaker: string | null;
}

const cam = (id: string): LayoutItem => ({ id, participantId: id, kind: 'camera' });
const screen = (id: string): LayoutItem => ({ id: `${id}:screen`, participantId: id, kind: 'screen' });

// One livestream through 4 leave/join events, a screen share and 2 layout switches (~40 s):
// the receiver must see ONE RTMP session with continuous video timestamps, sound all along, and
// after each change the tiles the layout says.
describe('livestream seamless output', () => {
  let fx: LivestreamFixture;

  beforeAll(async () => {
    fx = await LivestreamFixture.start();
  });

  afterAll(async () => {
    await fx?.close();
  });

  it('keeps one RTMP session with continuous timestamps across joins, leaves, a share and layout switches', async () => {
    const { room, rx } = fx;
    const join = (id: string) =>
      room.join(id, { name: id.toUpperCase(), color: COLORS[id]!, toneHz: TONES[id]! });
    await join('p1');
    await join('p2');
    await join('p3');
    const live = fx.livestream(OUTPUT);
    const t0 = performance.now();
    const now = () => (performance.now() - t0) / 1000;
    const checks: Check[] = [];
    const settle = 3.5; // decoder restart + wait for the sender's next keyframe (GOP 1 s)
    const mark = (label: string, items: LayoutItem[], mode: LayoutMode, speaker: string | null = null) =>
      checks.push({ at: now() + settle, label, items, mode, speaker });
    const wait = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

    await goLive(live);
    // The first checkpoint follows the participants' first frames (their senders' keyframe timing
    // varies with load), not a fixed delay; later checkpoints test the changes themselves.
    await waitForAllVideo(live, 'all three first frames');
    mark('start: 3 in grid', [cam('p1'), cam('p2'), cam('p3')], 'grid');
    await wait(settle + 0.5);

    await room.leave('p2');
    mark('p2 left', [cam('p1'), cam('p3')], 'grid');
    await wait(settle + 0.5);

    await join('p4');
    mark('p4 joined', [cam('p1'), cam('p3'), cam('p4')], 'grid');
    await wait(settle + 0.5);

    await room.leave('p3');
    mark('p3 left', [cam('p1'), cam('p4')], 'grid');
    await wait(settle + 0.5);

    await join('p2');
    mark('p2 re-joined', [cam('p1'), cam('p4'), cam('p2')], 'grid');
    await wait(settle + 0.5);

    await room.shareScreen('p1', { color: COLORS['p1:screen']!, toneHz: 0 });
    mark('p1 shares (grid)', [cam('p1'), screen('p1'), cam('p4'), cam('p2')], 'grid');
    await wait(settle + 0.5);

    live.setLayout('screen');
    mark('switch to screen', [cam('p1'), screen('p1'), cam('p4'), cam('p2')], 'screen');
    await wait(settle + 0.5);

    room.setActiveSpeaker('p4');
    live.setLayout('speaker');
    mark('switch to speaker (p4)', [cam('p1'), screen('p1'), cam('p4'), cam('p2')], 'speaker', 'p4');
    await wait(settle + 1);

    const stats = live.stats();
    await live.stop();
    await rx.stop();

    // One RTMP session for the whole livestream, the encoder never restarted.
    expect(rx.connections).toBe(1);
    expect(stats.encoderRestarts).toBe(0);
    const file = rx.files[0]!;
    const pk = await packets(file);
    const vts = pk.filter((p) => p.stream === 'video').map((p) => p.pts);
    const ats = pk.filter((p) => p.stream === 'audio').map((p) => p.pts);
    const duration = Math.max(...vts);
    expect(duration).toBeGreaterThan(checks.at(-1)!.at);
    expect(maxGap(vts)).toBeLessThanOrEqual(0.1);
    expect(maxGap(ats)).toBeLessThanOrEqual(0.1);
    expect(Math.max(...ats)).toBeGreaterThan(duration - 0.5);

    // Audible all along (2–3 participants with tones at every moment after the start).
    const pcm = await monoPcm8k(file);
    const win = 4000; // 0.5 s windows
    const quiet: number[] = [];
    for (let start = 3 * 8000; start + win <= pcm.length - 8000; start += win) {
      let sum = 0;
      for (let i = start; i < start + win; i++) sum += pcm[i]! * pcm[i]!;
      if (Math.sqrt(sum / win) < 1000) quiet.push(start / 8000);
    }
    expect(quiet, 'silent windows (s)').toEqual([]);

    // Frames after each change show the expected tiles.
    for (const c of checks) {
      const tiles = layout(c.items, c.mode, OUTPUT, { activeSpeaker: c.speaker });
      const frame = await frameAt(file, c.at, OUTPUT.width, OUTPUT.height);
      for (const t of tiles) {
        const px = frame.pixel(t.x + t.width / 2, t.y + t.height * 0.35);
        expect(colorClose(px, COLORS[t.id]!), `${c.label}: tile ${t.id} got ${px.join(',')}`).toBe(true);
      }
    }
  });
});
