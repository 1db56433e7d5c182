// Room names appear in URLs (/r/<room>), logs, stream keys and file names, so they are kept to a
// small safe alphabet. Pure and dependency-free: the lobby page bundles this same file.

export const ROOM_NAME_MAX = 64;
export const ROOM_NAME_RULE = `Room names are 1-${ROOM_NAME_MAX} characters: lowercase letters a-z, digits, '-' and '_'.`;
const ROOM_NAME_RE = /^[a-z0-9_-]+$/;

export type RoomNameCheck = { ok: true; name: string } | { ok: false; message: string };

/** Validates a room name exactly as given (no normalisation): the server never guesses. */
export function checkRoomName(name: unknown): RoomNameCheck {
  if (typeof name !== 'string' || name.length === 0) return { ok: false, message: 'Enter a room name.' };
  if (name.length > ROOM_NAME_MAX)
    return { ok: false, message: `Room name is too long (${name.length} characters, max ${ROOM_NAME_MAX}).` };
  if (!ROOM_NAME_RE.test(name)) {
    const bad = [...name].find((c) => !ROOM_NAME_RE.test(c)) ?? '';
    return { ok: false, message: `Room name contains "${bad}". ${ROOM_NAME_RULE}` };
  }
  return { ok: true, name };
}

/** What the lobby does with typed input before validating: "Team Sync" → "team-sync". */
export function normalizeRoomInput(input: string): string {
  return input.trim().toLowerCase().replace(/\s+/g, '-');
}

export const DISPLAY_NAME_MAX = 40;

/** Display names are free text but trimmed, bounded and free of control characters. */
export function cleanDisplayName(input: string): string {
  const printable = [...input].filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f).join('');
  return printable.trim().slice(0, DISPLAY_NAME_MAX);
}
