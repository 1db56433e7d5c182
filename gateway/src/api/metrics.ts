import { Router, type Request } from 'express';

/**
 * Prometheus metrics in the text exposition format (version 0.0.4), without a dependency:
 * the handful of gauges/counters issue 6 needs, behind small typed functions.
 * Per-room series are labelled `room`; call forgetRoom() when a livestream ends so label sets
 * stay bounded by the number of live rooms (counters of a finished room are dropped with it).
 */

type Labels = Record<string, string>;

interface MetricDef {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
}

const DEFS = {
  liveStreams: { name: 'roomcast_livestreams_live', help: 'Livestreams currently live.', type: 'gauge' },
  viewers: { name: 'roomcast_viewers', help: 'HLS viewers currently watching, per room.', type: 'gauge' },
  droppedFrames: {
    name: 'roomcast_dropped_frames_total',
    help: 'Video frames dropped by the compositor/encoder, per room.',
    type: 'counter',
  },
  encoderRestarts: {
    name: 'roomcast_encoder_restarts_total',
    help: 'Encoder (ffmpeg) restarts, per room.',
    type: 'counter',
  },
  destinationFailures: {
    name: 'roomcast_destination_failures_total',
    help: 'Failed connection attempts to extra destinations, per room.',
    type: 'counter',
  },
  livestreamCpu: {
    name: 'roomcast_livestream_cpu_cores',
    help: 'CPU used by the processes of a livestream, in cores (1 = one full core).',
    type: 'gauge',
  },
  processCpu: {
    name: 'process_cpu_seconds_total',
    help: 'Total user and system CPU time of the gateway process, seconds.',
    type: 'counter',
  },
  processRss: {
    name: 'process_resident_memory_bytes',
    help: 'Resident memory of the gateway process, bytes.',
    type: 'gauge',
  },
} as const satisfies Record<string, MetricDef>;

type MetricKey = keyof typeof DEFS;

/** Escapes a label value per the exposition format (backslash, double quote, newline). */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabelValue(labels[k] ?? '')}"`).join(',')}}`;
}

export class GatewayMetrics {
  private readonly series = new Map<MetricKey, Map<string, number>>();

  constructor() {
    for (const k of Object.keys(DEFS) as MetricKey[]) this.series.set(k, new Map());
    this.set('liveStreams', {}, 0);
  }

  setLiveStreams(n: number): void {
    this.set('liveStreams', {}, n);
  }
  setViewers(room: string, n: number): void {
    this.set('viewers', { room }, n);
  }
  addDroppedFrames(room: string, n: number): void {
    if (n > 0) this.add('droppedFrames', { room }, n);
  }
  incEncoderRestarts(room: string): void {
    this.add('encoderRestarts', { room }, 1);
  }
  incDestinationFailures(room: string): void {
    this.add('destinationFailures', { room }, 1);
  }
  /** Cores (0.5 = half a core) used by the livestream's processes (compositor, relays, …). */
  setLivestreamCpu(room: string, cores: number): void {
    this.set('livestreamCpu', { room }, cores);
  }
  /** Drops every series of this room (livestream ended). */
  forgetRoom(room: string): void {
    const key = labelKey({ room });
    for (const m of this.series.values()) m.delete(key);
  }

  /** Current value (tests, status endpoints). */
  value(metric: MetricKey, labels: Labels = {}): number | undefined {
    return this.series.get(metric)?.get(labelKey(labels));
  }

  /** The exposition text for GET /metrics. */
  render(): string {
    const usage = process.cpuUsage();
    this.set('processCpu', {}, (usage.user + usage.system) / 1e6);
    this.set('processRss', {}, process.memoryUsage.rss());
    const lines: string[] = [];
    for (const [key, def] of Object.entries(DEFS) as Array<[MetricKey, MetricDef]>) {
      lines.push(`# HELP ${def.name} ${def.help}`);
      lines.push(`# TYPE ${def.name} ${def.type}`);
      for (const [labels, v] of this.series.get(key) ?? []) {
        lines.push(`${def.name}${labels} ${formatValue(v)}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }

  private set(metric: MetricKey, labels: Labels, v: number): void {
    this.series.get(metric)?.set(labelKey(labels), v);
  }
  private add(metric: MetricKey, labels: Labels, v: number): void {
    const m = this.series.get(metric);
    if (!m) return;
    const k = labelKey(labels);
    m.set(k, (m.get(k) ?? 0) + v);
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * GET /metrics. `authorize` decides who may scrape (room names are in the labels): e.g. a
 * server API key or loopback only. Without it the endpoint is public.
 */
export function metricsRouter(
  metrics: GatewayMetrics,
  opts: { authorize?: (req: Request) => boolean } = {},
): Router {
  const router = Router();
  router.get('/metrics', (req, res) => {
    if (opts.authorize && !opts.authorize(req)) {
      res.status(401).json({ error: 'unauthorized', message: 'metrics require authorization' });
      return;
    }
    res.setHeader('Content-Type', PROMETHEUS_CONTENT_TYPE);
    res.setHeader('Cache-Control', 'no-store');
    res.send(metrics.render());
  });
  return router;
}
