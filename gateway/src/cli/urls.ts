import type { Config } from '../config/schema.ts';

// Public URLs shown to operators/moderators. Pure: derived from config (and optionally the host a
// request came in on), with localhost defaults.

export function rtmpBaseUrl(config: Config, requestHost?: string): string {
  if (config.rtmp.publicUrl) return config.rtmp.publicUrl.replace(/\/+$/, '');
  const host = requestHost ? requestHost.replace(/:\d+$/, '') : 'localhost';
  return `rtmp://${host}:${config.rtmp.port}/live`;
}

export function watchUrl(config: Config, playbackId: string, requestOrigin?: string): string {
  const base =
    config.server.publicUrl ||
    requestOrigin ||
    `${config.server.tls.cert ? 'https' : 'http'}://localhost:${config.server.port}`;
  return `${base.replace(/\/+$/, '')}/watch/${playbackId}`;
}
