import { describe, expect, it } from 'vitest';
import { descendants, isAlive, startGatewayProcess } from '../helpers/gateway-process.ts';

interface Health {
  status: string;
  version: string;
  mediasoup: { workers: { pid: number; alive: boolean }[] };
  ffmpeg: { found: boolean; version: string | null };
}

describe('npm start', () => {
  it('serves /healthz with a live worker, and SIGTERM exits 0 leaving no child process', async () => {
    const gw = await startGatewayProcess();
    try {
      const res = await fetch(`${gw.baseUrl}/healthz`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Health;
      expect(body.status).toBe('ok');
      expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(body.mediasoup.workers.length).toBe(1);
      expect(body.mediasoup.workers[0]?.alive).toBe(true);
      expect(body.ffmpeg.found).toBe(true);
      expect(body.ffmpeg.version).toMatch(/^\d/);
      const workerPid = body.mediasoup.workers[0]!.pid;
      expect(isAlive(workerPid)).toBe(true);

      const home = await fetch(`${gw.baseUrl}/`);
      expect(home.status).toBe(200);
      expect(await home.text()).toContain('roomcast');

      const tree = descendants(gw.child.pid!);
      expect(tree).toContain(workerPid);
      const { code, ms } = await gw.stop('SIGTERM');
      expect(code).toBe(0);
      expect(ms).toBeLessThan(5000);
      await new Promise((r) => setTimeout(r, 200));
      expect(tree.filter(isAlive)).toEqual([]);
      // Logs are JSON lines.
      const firstJson = gw
        .output()
        .split('\n')
        .find((l) => l.startsWith('{'));
      expect(JSON.parse(firstJson ?? '{}')).toHaveProperty('level');
    } finally {
      await gw.stop('SIGKILL');
    }
  });

  it('a bad config value exits non-zero with a message naming the key', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync('npx', ['tsx', 'gateway/src/main.ts', '--config', 'config/default.yaml'], {
      env: { ...process.env, ROOMCAST_SERVER__PORT: 'not-a-port' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.status).not.toBeNull();
    expect(r.stderr).toContain('ROOMCAST_SERVER__PORT');
    expect(r.stderr).toContain('server.port');
  });
});
