import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freeTcpPort, waitFor } from './net.ts';

export interface GatewayProcess {
  child: ChildProcess;
  baseUrl: string;
  port: number;
  dataDir: string;
  output: () => string;
  /** The gateway's own node process (below npm when started with `npm start`). */
  gatewayPid(): number;
  /** Signal the gateway process and wait for the started command to exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/** All descendant pids of `pid` (from /proc). */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      /* process went away */
    }
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop() as number;
    for (const c of children.get(p) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie is dead for our purposes.
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/**
 * Starts the gateway exactly as a user does (`npm start`, or another command), on free ports
 * and a temp data dir given through ROOMCAST_* env overrides.
 */
export async function startGatewayProcess(
  opts: { command?: string[]; env?: Record<string, string>; dataDir?: string } = {},
): Promise<GatewayProcess> {
  const port = await freeTcpPort();
  const rtmpPort = await freeTcpPort();
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'roomcast-gw-'));
  const [cmd, ...args] = opts.command ?? ['npm', 'start', '--silent'];
  let out = '';
  const child = spawn(cmd as string, args, {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: {
      ...process.env,
      ROOMCAST_SERVER__PORT: String(port),
      ROOMCAST_SERVER__HOST: '127.0.0.1',
      ROOMCAST_RTMP__PORT: String(rtmpPort),
      ROOMCAST_RTMP__BIND: '127.0.0.1',
      ROOMCAST_MEDIASOUP__NUM_WORKERS: '1',
      ROOMCAST_HLS__DIR: path.join(dataDir, 'hls'),
      ROOMCAST_STORAGE__DATABASE: path.join(dataDir, 'roomcast.db'),
      ROOMCAST_RECORDING__DIR: path.join(dataDir, 'recordings'),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  try {
    await waitFor(
      'gateway /healthz',
      async () => {
        if (child.exitCode !== null) throw new Error(`gateway exited early (${child.exitCode}):\n${out}`);
        const res = await fetch(`${baseUrl}/healthz`).catch(() => undefined);
        return res?.ok ? true : undefined;
      },
      60_000,
      200,
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n--- gateway output ---\n${out}`);
  }
  const gatewayPid = (): number => {
    for (const pid of [child.pid as number, ...descendants(child.pid as number)]) {
      try {
        const isNode = readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'node';
        if (isNode && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('gateway/src/main.ts'))
          return pid;
      } catch {
        /* gone */
      }
    }
    throw new Error('gateway process not found');
  };
  return {
    child,
    baseUrl,
    port,
    dataDir,
    output: () => out,
    gatewayPid,
    async stop(signal = 'SIGTERM') {
      const t0 = Date.now();
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(gatewayPid(), signal);
        } catch {
          child.kill(signal);
        }
      }
      const r = await exited;
      return { ...r, ms: Date.now() - t0 };
    },
  };
}
