import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { waitFor } from './net.ts';

export interface AppLine {
  event: string;
  [k: string]: unknown;
}

/**
 * test/helpers/existing-app.ts in its own Node process (the "existing mediasoup app" of the
 * sidecar tests), with its stdout lines parsed. Own process group: kill() takes the app down with
 * its ffmpeg senders and mediasoup worker, like a crashed host, and leaves no orphans.
 */
export class ExistingAppProcess {
  readonly lines: AppLine[] = [];
  readonly child: ChildProcess;
  private stderr = '';

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/existing-app.ts'], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    readline.createInterface({ input: this.child.stdout! }).on('line', (l) => {
      if (l.startsWith('{')) this.lines.push(JSON.parse(l) as AppLine);
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  async waitLine(what: string, pred: (l: AppLine) => boolean, timeoutMs = 30_000): Promise<AppLine> {
    return await waitFor(
      `${what} (app stderr: ${this.stderr.slice(-500)})`,
      () => this.lines.find(pred),
      timeoutMs,
    );
  }

  /** The app's own view: its peer list, its router's transports by type, the connector status. */
  async report(): Promise<{
    peers: { id: string; displayName: string }[];
    transports: Record<string, number>;
    connector: string;
  }> {
    const n = this.lines.length;
    this.child.stdin!.write('report\n');
    const l = await this.waitLine('app report', (x) => x.event === 'report' && this.lines.indexOf(x) >= n);
    return l as unknown as Awaited<ReturnType<ExistingAppProcess['report']>>;
  }

  private get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(): Promise<void> {
    if (!this.running) return this.killGroup();
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.write('quit\n');
    const t = setTimeout(() => this.killGroup(), 5000);
    await exited;
    clearTimeout(t);
    this.killGroup(); // anything the app failed to stop
  }

  /** Abrupt death: no goodbye on the control channel; its worker and ffmpeg senders die with it. */
  async kill(): Promise<void> {
    const exited = this.running ? new Promise((r) => this.child.once('exit', r)) : Promise.resolve();
    this.killGroup();
    await exited;
  }

  private killGroup(): void {
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      /* group already gone */
    }
  }
}
