import { describe, expect, it } from 'vitest';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { escapeLabelValue, GatewayMetrics, metricsRouter } from '../../gateway/src/api/metrics.ts';

/** Minimal parser of the exposition format: name{labels} value, plus HELP/TYPE bookkeeping. */
function parse(text: string): { types: Map<string, string>; samples: Map<string, number> } {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const t = /^# TYPE (\S+) (gauge|counter)$/.exec(line);
    if (t) {
      types.set(t[1]!, t[2]!);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`bad line: ${line}`);
    samples.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return { types, samples };
}

describe('GatewayMetrics', () => {
  it('renders every metric with HELP/TYPE and labelled samples', () => {
    const m = new GatewayMetrics();
    m.setLiveStreams(2);
    m.setViewers('standup', 7);
    m.addDroppedFrames('standup', 3);
    m.addDroppedFrames('standup', 2);
    m.incEncoderRestarts('standup');
    m.incDestinationFailures('standup');
    m.incDestinationFailures('standup');
    m.setLivestreamCpu('standup', 0.42);
    const text = m.render();
    expect(text.endsWith('\n')).toBe(true);
    const { types, samples } = parse(text);
    expect(types.get('roomcast_livestreams_live')).toBe('gauge');
    expect(types.get('roomcast_dropped_frames_total')).toBe('counter');
    expect(types.get('process_cpu_seconds_total')).toBe('counter');
    expect(samples.get('roomcast_livestreams_live')).toBe(2);
    expect(samples.get('roomcast_viewers{room="standup"}')).toBe(7);
    expect(samples.get('roomcast_dropped_frames_total{room="standup"}')).toBe(5);
    expect(samples.get('roomcast_encoder_restarts_total{room="standup"}')).toBe(1);
    expect(samples.get('roomcast_destination_failures_total{room="standup"}')).toBe(2);
    expect(samples.get('roomcast_livestream_cpu_cores{room="standup"}')).toBe(0.42);
    expect(samples.get('process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('escapes label values and forgets a room', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    const m = new GatewayMetrics();
    m.setViewers('we"ird\nroom', 1);
    m.setViewers('other', 4);
    expect(m.render()).toContain('roomcast_viewers{room="we\\"ird\\nroom"} 1\n');
    m.forgetRoom('we"ird\nroom');
    const { samples } = parse(m.render());
    expect([...samples.keys()].filter((k) => k.startsWith('roomcast_viewers'))).toEqual([
      'roomcast_viewers{room="other"}',
    ]);
  });

  it('serves /metrics with the Prometheus content type and honours authorize', async () => {
    const m = new GatewayMetrics();
    m.setLiveStreams(1);
    const app = express();
    app.use(metricsRouter(m, { authorize: (req) => req.headers.authorization === 'Bearer ok' }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const denied = await fetch(`${base}/metrics`);
      expect(denied.status).toBe(401);
      const ok = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer ok' } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(parse(await ok.text()).samples.get('roomcast_livestreams_live')).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
