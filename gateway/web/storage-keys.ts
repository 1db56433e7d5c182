// localStorage keys shared by the lobby and the meeting page.
export const NAME_KEY = 'roomcast.displayName';
/** The moderator token of a room, kept by the browser that created it (sent on every (re)join). */
export const moderatorKey = (room: string): string => `roomcast.moderator.${room}`;
