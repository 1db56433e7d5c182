import { parseSseBlock, type PanelStatus } from './format.ts';

/** The REST client of the panel: bearer token in the header (never in a URL). */
export class PanelApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class PanelApi {
  constructor(
    readonly base: string,
    readonly room: string,
    private readonly token: string,
  ) {}

  url(p: string): string {
    return `${this.base}/api/rooms/${encodeURIComponent(this.room)}${p}`;
  }

  async request<T>(method: string, p: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(this.url(p), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
    });
    if (res.status === 204) return undefined as T;
    const data = (await res.json().catch(() => ({}))) as { message?: string };
    if (!res.ok) throw new PanelApiError(res.status, data.message ?? `HTTP ${res.status}`);
    return data as T;
  }

  status(): Promise<PanelStatus> {
    return this.request('GET', '/livestream');
  }

  /**
   * Follows the status over server-sent events, read with fetch (EventSource cannot send the
   * Authorization header). Resolves when the stream ends or `signal` aborts.
   */
  async follow(onStatus: (s: PanelStatus) => void, signal: AbortSignal): Promise<void> {
    const res = await fetch(this.url('/livestream/events'), {
      headers: { Authorization: `Bearer ${this.token}`, Accept: 'text/event-stream' },
      credentials: 'omit',
      signal,
    });
    if (!res.ok || !res.body) {
      const data = (await res.json().catch(() => ({}))) as { message?: string };
      throw new PanelApiError(res.status, data.message ?? `HTTP ${res.status}`);
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value.replace(/\r\n/g, '\n');
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const data = parseSseBlock(buf.slice(0, i));
        buf = buf.slice(i + 2);
        if (data) onStatus(JSON.parse(data) as PanelStatus);
      }
    }
  }
}
