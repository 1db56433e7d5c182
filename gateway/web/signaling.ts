// Browser side of the signaling protocol (see gateway/src/conference/protocol.ts): one
// WebSocket, request/response matched by id, notifications pushed to a listener.

export interface SignalingNotification {
  method: string;
  data: Record<string, unknown>;
}

export class SignalingError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: number };

export class Signaling {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  onNotification: (n: SignalingNotification) => void = () => {};
  /** Called once when the socket closes (after open or on failure to open). */
  onClose: (code: number) => void = () => {};

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener('message', (ev) => this.onMessage(ev.data));
    ws.addEventListener('close', (ev) => {
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new SignalingError('closed', 'connection to the server closed'));
      }
      this.pending.clear();
      this.onClose(ev.code);
    });
  }

  static connect(url: string, timeoutMs = 8000): Promise<Signaling> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const timer = window.setTimeout(() => {
        ws.close();
        reject(new SignalingError('unreachable', 'the server did not answer'));
      }, timeoutMs);
      ws.addEventListener('open', () => {
        clearTimeout(timer);
        resolve(new Signaling(ws));
      });
      ws.addEventListener('error', () => {
        clearTimeout(timer);
        reject(new SignalingError('unreachable', 'cannot reach the server'));
      });
    });
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  request<T = Record<string, unknown>>(method: string, data: object = {}, timeoutMs = 15000): Promise<T> {
    if (!this.open) return Promise.reject(new SignalingError('closed', 'not connected'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = window.setTimeout(() => {
        this.pending.delete(id);
        reject(new SignalingError('timeout', `${method}: no answer from the server`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.ws.send(JSON.stringify({ id, method, data }));
    });
  }

  close(): void {
    this.ws.close(1000);
  }

  private onMessage(raw: unknown): void {
    if (typeof raw !== 'string') return;
    let msg: {
      response?: boolean;
      notification?: boolean;
      id?: number;
      ok?: boolean;
      data?: unknown;
      error?: { code: string; message: string };
      method?: string;
    };
    try {
      msg = JSON.parse(raw);
    } catch {
      return;
    }
    if (msg.response && typeof msg.id === 'number') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.ok) p.resolve(msg.data);
      else p.reject(new SignalingError(msg.error?.code ?? 'error', msg.error?.message ?? 'request failed'));
    } else if (msg.notification && typeof msg.method === 'string') {
      this.onNotification({ method: msg.method, data: (msg.data ?? {}) as Record<string, unknown> });
    }
  }
}
