import { defineConfig } from 'vite';
import { resolve } from 'node:path';

// Browser bundles served by the gateway: the meeting page (mediasoup-client) and the public
// player (hls.js). Everything is bundled locally: pages load nothing from other origins.
export default defineConfig({
  root: resolve(import.meta.dirname),
  base: '/assets/',
  logLevel: 'warn',
  build: {
    outDir: resolve(import.meta.dirname, 'dist/web'),
    emptyOutDir: true,
    assetsDir: '.',
    sourcemap: true,
    target: 'es2022',
    rollupOptions: {
      input: {
        meeting: resolve(import.meta.dirname, 'gateway/web/meeting.html'),
        player: resolve(import.meta.dirname, 'player/watch.html'),
      },
    },
  },
});
