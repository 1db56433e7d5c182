// Pure helpers of the livestream panel (unit-tested in test/unit/panel-format.test.ts).

export type PanelState = 'idle' | 'starting' | 'live' | 'reconnecting' | 'stopped' | 'failed';

export interface PanelDestination {
  id: string;
  state: 'connecting' | 'live' | 'retrying' | 'stopped' | 'failed';
  url: string;
  attempts: number;
  lastError: string | null;
}

/** The status document of GET /api/rooms/:room/livestream (moderator fields optional). */
export interface PanelStatus {
  role: 'moderator' | 'participant';
  room: string;
  state: PanelState;
  reason: string | null;
  startedAt: string | null;
  durationSeconds: number;
  viewers: number;
  watchPath: string;
  layout?: 'auto' | 'grid' | 'speaker' | 'screen';
  destinations?: PanelDestination[];
  recording?: { enabled: boolean; state: string | null; file: string | null };
}

/** "0:07", "12:03", "1:02:03". */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** Seconds live now, from startedAt (ticks locally between server updates). */
export function liveSeconds(startedAt: string | null, nowMs: number, fallback: number): number {
  if (!startedAt) return fallback;
  const t = Date.parse(startedAt);
  return Number.isFinite(t) ? Math.max(0, (nowMs - t) / 1000) : fallback;
}

/** True while the room is being streamed (everyone sees the LIVE badge). */
export function isStreamed(state: PanelState): boolean {
  return state === 'starting' || state === 'live' || state === 'reconnecting';
}

/** The one-line state text shown under the badge. */
export function stateText(st: Pick<PanelStatus, 'state' | 'reason' | 'viewers'>, seconds: number): string {
  switch (st.state) {
    case 'idle':
      return 'Not live';
    case 'starting':
      return 'Starting…';
    case 'live':
      return `Live · ${formatDuration(seconds)} · ${st.viewers} ${st.viewers === 1 ? 'viewer' : 'viewers'}`;
    case 'reconnecting':
      return `Reconnecting…${st.reason ? ` (${st.reason})` : ''}`;
    case 'stopped':
      return `Stopped${st.reason ? `: ${st.reason}` : ''}`;
    case 'failed':
      return `Failed: ${st.reason ?? 'unknown error'}`;
  }
}

export const DESTINATION_STATE_TEXT: Record<PanelDestination['state'], string> = {
  connecting: 'connecting',
  live: 'live',
  retrying: 'retrying',
  stopped: 'stopped',
  failed: 'failed',
};

/** Parses one server-sent-events block ("event: x\ndata: …") → data of `status` events. */
export function parseSseBlock(block: string): string | null {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return event === 'status' && data.length > 0 ? data.join('\n') : null;
}
