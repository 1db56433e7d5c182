import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layout, type LayoutItem } from '../../gateway/src/compositor/layout.ts';
import type { Rgb } from '../helpers/synthetic-room.ts';
import { colorClose, frameAt, monoPcm8k } from '../helpers/rtmp-receiver.ts';
import { LivestreamFixture, SMALL_OUTPUT, goLive, waitForAllVideo } from '../helpers/livestream-fixture.ts';
const OUTPUT = SMALL_OUTPUT;
const RED: Rgb = [220, 40, 40];
const GREEN: Rgb = [40, 200, 60];
const PLACEHOLDER: Rgb = [58, 62, 72];
const TONE1 = 440;
const TONE2 = 1000;

/** Mean Goertzel power of `freq` over [from, to) seconds of mono 8 kHz PCM. */
function tonePower(pcm: Int16Array, from: number, to: number, freq: number): number {
  const rate = 8000;
  const k = 2 * Math.cos((2 * Math.PI * freq) / rate);
  let total = 0;
  let blocks = 0;
  for (let start = Math.floor(from * rate); start + 400 <= to * rate; start += 400) {
    let s1 = 0;
    let s2 = 0;
    for (let i = start; i < start + 400; i++) {
      const s0 = pcm[i]! / 32768 + k * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    total += s1 * s1 + s2 * s2 - k * s1 * s2;
    blocks++;
  }
  return total / Math.max(1, blocks);
}

// Camera off → placeholder tile; stream opt-out → out of the picture AND the sound at once.
describe('livestream participant states', () => {
  let fx: LivestreamFixture;

  beforeAll(async () => {
    fx = await LivestreamFixture.start();
    await fx.room.join('p1', { name: 'Red One', color: RED, toneHz: TONE1 });
    await fx.room.join('p2', { name: 'Green Two', color: GREEN, toneHz: TONE2 });
  });

  afterAll(async () => {
    await fx?.close();
  });

  it('shows a placeholder for a camera that is off and drops an opted-out participant', async () => {
    const { room, rx } = fx;
    const live = fx.livestream(OUTPUT);
    await goLive(live);
    await waitForAllVideo(live);
    await new Promise((r) => setTimeout(r, 2000));
    const at = () => live.stats().framesOut / OUTPUT.fps;
    const tBoth = at() - 0.5;

    await room.pause('p1', 'camera');
    await new Promise((r) => setTimeout(r, 2500));
    const tPaused = at() - 0.5;
    await room.resume('p1', 'camera');
    await new Promise((r) => setTimeout(r, 3000));

    const tBeforeOptOut = at();
    room.setExcluded('p2', true);
    await new Promise((r) => setTimeout(r, 3500));
    const tOptedOut = at() - 0.5;
    await live.stop();
    await rx.stop();
    expect(rx.connections).toBe(1);
    const file = rx.files[0]!;

    const two: LayoutItem[] = [
      { id: 'p1', participantId: 'p1', kind: 'camera' },
      { id: 'p2', participantId: 'p2', kind: 'camera' },
    ];
    const [a, b] = layout(two, 'grid', OUTPUT);
    const spot = (t: typeof a) => [t!.x + t!.width * 0.2, t!.y + t!.height * 0.25] as const;

    let f = await frameAt(file, tBoth, OUTPUT.width, OUTPUT.height);
    expect(colorClose(f.pixel(...spot(a)), RED)).toBe(true);
    expect(colorClose(f.pixel(...spot(b)), GREEN)).toBe(true);

    f = await frameAt(file, tPaused, OUTPUT.width, OUTPUT.height);
    const px = f.pixel(...spot(a));
    expect(colorClose(px, PLACEHOLDER, 20), `camera off: ${px.join(',')}`).toBe(true);
    expect(colorClose(f.pixel(...spot(b)), GREEN)).toBe(true);

    // p2 opted out: p1 alone, full size; no green anywhere.
    const [solo] = layout([two[0]!], 'grid', OUTPUT);
    f = await frameAt(file, tOptedOut, OUTPUT.width, OUTPUT.height);
    expect(colorClose(f.pixel(solo!.x + solo!.width / 2, solo!.y + solo!.height * 0.35), RED)).toBe(true);
    let green = 0;
    for (let y = 0; y < OUTPUT.height; y += 8)
      for (let x = 0; x < OUTPUT.width; x += 8) if (colorClose(f.pixel(x, y), GREEN)) green++;
    expect(green).toBe(0);

    // ... and out of the sound: p2's tone is gone, p1's stays.
    const pcm = await monoPcm8k(file);
    const before2 = tonePower(pcm, tBeforeOptOut - 2, tBeforeOptOut - 0.5, TONE2);
    const after2 = tonePower(pcm, tOptedOut - 1.5, tOptedOut, TONE2);
    const after1 = tonePower(pcm, tOptedOut - 1.5, tOptedOut, TONE1);
    expect(before2).toBeGreaterThan(0);
    expect(after2).toBeLessThan(before2 / 100);
    expect(after1).toBeGreaterThan(before2 / 10);
  });
});
