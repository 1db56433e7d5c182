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
        lobby: resolve(import.meta.dirname, 'gateway/web/lobby.html'),
        meeting: resolve(import.meta.dirname, 'gateway/web/meeting.html'),
        player: resolve(import.meta.dirname, 'player/watch.html'),
        // <roomcast-panel> as one standalone module at a stable URL (/embed/panel.js) for other sites.
        'panel-embed': resolve(import.meta.dirname, 'gateway/web/panel/embed.ts'),
      },
      output: {
        entryFileNames: (chunk) => (chunk.name === 'panel-embed' ? 'embed/panel.js' : '[name]-[hash].js'),
      },
    },
  },
});
