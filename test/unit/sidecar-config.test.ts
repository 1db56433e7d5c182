import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, validateConfig } from '../../gateway/src/config/loader.ts';

describe('sidecar config', () => {
  it('config/sidecar.example.yaml selects sidecar-only mode once the secret comes from the environment', () => {
    const c = loadConfig('config/sidecar.example.yaml', { ROOMCAST_SIDECAR__SECRET: 's'.repeat(40) });
    expect(c.sidecar).toMatchObject({
      enabled: true,
      reconnectWindowSeconds: 30,
      pipe: { enableSrtp: true },
    });
    expect(c.conference.enabled).toBe(false);
    expect(() => loadConfig('config/sidecar.example.yaml', {})).toThrow(
      /sidecar: secret \(>= 32 chars\) is required/,
    );
  });

  it('a wildcard pipe listenIp needs an announcedAddress; unknown pipe keys are refused', () => {
    const base = { sidecar: { enabled: true, secret: 's'.repeat(40) } };
    expect(() => validateConfig({ sidecar: { ...base.sidecar, pipe: { listenIp: '0.0.0.0' } } })).toThrow(
      /sidecar\.pipe.*announcedAddress is required/,
    );
    expect(() => validateConfig({ sidecar: { ...base.sidecar, pipe: { listenIP: '1.2.3.4' } } })).toThrow(
      ConfigError,
    );
    const ok = validateConfig({
      sidecar: { ...base.sidecar, pipe: { listenIp: '0.0.0.0', announcedAddress: '203.0.113.7' } },
    });
    expect(ok.sidecar.pipe).toEqual({
      listenIp: '0.0.0.0',
      announcedAddress: '203.0.113.7',
      enableSrtp: true,
    });
    expect(validateConfig({}).sidecar).toMatchObject({ enabled: false, pipe: { listenIp: '127.0.0.1' } });
  });
});
