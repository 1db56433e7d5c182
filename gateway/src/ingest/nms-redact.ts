import { redactText } from '../log/logger.ts';

/**
 * node-media-server prints stream paths ("/live/<streamKey>") and names ("name=<key>") in its
 * messages. Everything it says goes through here before reaching our logger.
 */
export function redactNmsMessage(message: string): string {
  return redactText(message)
    .replace(/(\/[A-Za-z0-9_.-]*\/)[^\s/,'"?]+/g, '$1[REDACTED]')
    .replace(/(name=)[^\s,'"]+/gi, '$1[REDACTED]');
}
