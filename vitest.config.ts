import { defineConfig } from 'vitest/config';

// Three projects, run one after the other by `npm test`: unit (pure, fast), integration (real
// mediasoup worker, ffmpeg, node-media-server, SQLite on loopback), e2e (Debian Chromium).
// Media tests share 2 cores, so integration and e2e run files one at a time.
export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 10_000 },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 90_000,
          fileParallelism: false,
          pool: 'forks',
        },
      },
    ],
  },
});
