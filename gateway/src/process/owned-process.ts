import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Logger } from '../log/logger.ts';
import { redactText } from '../log/logger.ts';

/**
 * A child process with exactly one owner. `stop()` asks it to quit (SIGTERM, or 'q' on stdin
 * for ffmpeg when requested) and kills it (SIGKILL) if it does not exit in time. Every live
 * OwnedProcess is also tracked in a registry so gateway shutdown, and as a last resort the
 * Node process's 'exit' event, can kill whatever is left: no orphan ffmpeg.
 */
export interface OwnedProcessOptions {
  /** Short name for logs: "decoder alice", "hls packager abc123". */
  name: string;
  command: string;
  args: string[];
  logger: Logger;
  spawnOptions?: SpawnOptions;
  /** Lines of stderr kept for error messages. */
  stderrTail?: number;
  /** Called with each stderr line (already redacted). */
  onStderrLine?: (line: string) => void;
  /** Graceful stop: write 'q' to stdin (ffmpeg) before SIGTERM. */
  quitWithQ?: boolean;
  killTimeoutMs?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the exit was asked for by stop(). */
  requested: boolean;
  stderrTail: string[];
}

const live = new Set<OwnedProcess>();

export class OwnedProcess extends EventEmitter<{ exit: [ExitInfo]; error: [Error] }> {
  readonly child: ChildProcess;
  readonly name: string;
  private readonly stderrLines: string[] = [];
  private stopping = false;
  private exited = false;
  private readonly exitPromise: Promise<ExitInfo>;

  constructor(private readonly opts: OwnedProcessOptions) {
    super();
    this.name = opts.name;
    this.child = spawn(opts.command, opts.args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts.spawnOptions });
    live.add(this);
    const tailMax = opts.stderrTail ?? 30;
    let partial = '';
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      partial += chunk;
      const lines = partial.split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      for (const raw of lines) {
        if (!raw) continue;
        const line = redactText(raw);
        this.stderrLines.push(line);
        if (this.stderrLines.length > tailMax) this.stderrLines.shift();
        opts.onStderrLine?.(line);
      }
    });
    // Writes to a dead child's stdin must not crash the gateway.
    this.child.stdin?.on('error', () => {});
    this.exitPromise = new Promise((resolve) => {
      this.child.once('error', (err) => {
        opts.logger.error({ process: this.name, err: err.message }, 'child process error');
        if (!this.exited) {
          this.exited = true;
          live.delete(this);
          const info: ExitInfo = {
            code: null,
            signal: null,
            requested: this.stopping,
            stderrTail: [...this.stderrLines],
          };
          this.emit('exit', info);
          resolve(info);
        }
      });
      this.child.once('exit', (code, signal) => {
        if (this.exited) return;
        this.exited = true;
        live.delete(this);
        const info: ExitInfo = { code, signal, requested: this.stopping, stderrTail: [...this.stderrLines] };
        const level = this.stopping || code === 0 ? 'debug' : 'warn';
        opts.logger[level]({ process: this.name, pid: this.child.pid, code, signal }, 'child process exited');
        this.emit('exit', info);
        resolve(info);
      });
    });
    opts.logger.debug(
      { process: this.name, pid: this.child.pid, command: opts.command },
      'child process started',
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.exited;
  }

  get stopRequested(): boolean {
    return this.stopping;
  }

  tail(): string[] {
    return [...this.stderrLines];
  }

  waitForExit(): Promise<ExitInfo> {
    return this.exitPromise;
  }

  /** Ask the process to quit; SIGKILL after killTimeoutMs. Resolves when it has exited. */
  async stop(): Promise<ExitInfo> {
    if (this.exited) return this.exitPromise;
    this.stopping = true;
    const timeout = this.opts.killTimeoutMs ?? 3000;
    if (this.opts.quitWithQ && this.child.stdin && !this.child.stdin.destroyed) {
      this.child.stdin.end('q');
    } else {
      this.child.kill('SIGTERM');
    }
    const term = setTimeout(() => {
      if (!this.exited) this.child.kill('SIGTERM');
    }, timeout / 2);
    const kill = setTimeout(() => {
      if (!this.exited) this.child.kill('SIGKILL');
    }, timeout);
    try {
      return await this.exitPromise;
    } finally {
      clearTimeout(term);
      clearTimeout(kill);
    }
  }

  /** Immediate SIGKILL (fault injection in tests, last-resort cleanup). */
  killNow(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exited) this.child.kill(signal);
  }

  static liveProcesses(): OwnedProcess[] {
    return [...live];
  }

  static async stopAll(): Promise<void> {
    await Promise.all([...live].map((p) => p.stop()));
  }
}

// Last resort: if the Node process exits with children still running, kill them synchronously.
process.once('exit', () => {
  for (const p of live) p.killNow();
});
