import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, envKeyToPath, loadConfig, validateConfig } from '../../gateway/src/config/loader.ts';

function yamlFile(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'roomcast-config-'));
  const file = path.join(dir, 'c.yaml');
  writeFileSync(file, text);
  return file;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('defaults give a complete embedded set-up', () => {
    const c = validateConfig({});
    expect(c.server.port).toBe(8080);
    expect(c.rtmp.port).toBe(1935);
    expect(c.conference.enabled).toBe(true);
    expect(c.livestream.output).toMatchObject({
      width: 1280,
      height: 720,
      fps: 30,
      keyframeIntervalSeconds: 1,
    });
  });

  it('the shipped config/default.yaml is valid', () => {
    const c = loadConfig(path.resolve('config/default.yaml'), {});
    expect(c.server.port).toBe(8080);
  });

  it('an unknown key is named, with its section', () => {
    const e = errorOf(() => loadConfig(yamlFile('server:\n  prot: 8080\n'), {}));
    expect(e.message).toContain('unknown key "server.prot"');
  });

  it('an unknown section is named', () => {
    const e = errorOf(() => loadConfig(yamlFile('servr:\n  port: 8080\n'), {}));
    expect(e.message).toContain('unknown key "servr"');
  });

  it('a wrong type names the key and the expected type', () => {
    const e = errorOf(() => loadConfig(yamlFile('server:\n  port: "eighty"\n'), {}));
    expect(e.message).toMatch(/server\.port: .*number/i);
  });

  it('an out-of-range value names the key', () => {
    const e = errorOf(() => loadConfig(yamlFile('rtmp:\n  port: 70000\n'), {}));
    expect(e.message).toMatch(/rtmp\.port: .*65535/);
  });

  it('cross-field rules explain themselves', () => {
    expect(
      errorOf(() => validateConfig({ mediasoup: { rtcMinPort: 50000, rtcMaxPort: 40000 } })).message,
    ).toContain('rtcMinPort must be <= rtcMaxPort');
    expect(errorOf(() => validateConfig({ server: { tls: { cert: 'a.pem' } } })).message).toContain(
      'set both cert and key',
    );
  });

  it('invalid YAML and a missing file are clear errors', () => {
    expect(errorOf(() => loadConfig(yamlFile('server: [1, 2\n'), {})).message).toContain('not valid YAML');
    expect(errorOf(() => loadConfig('/nonexistent/roomcast.yaml', {})).message).toContain(
      'cannot read config file',
    );
    expect(errorOf(() => loadConfig(yamlFile('- a\n- b\n'), {})).message).toContain(
      'top level must be a mapping',
    );
  });

  it('env vars override keys, parsed as YAML scalars', () => {
    expect(envKeyToPath('ROOMCAST_MEDIASOUP__RTC_MIN_PORT')).toEqual(['mediasoup', 'rtcMinPort']);
    const c = loadConfig(yamlFile('server:\n  port: 8080\n'), {
      ROOMCAST_SERVER__PORT: '9090',
      ROOMCAST_CONFERENCE__ENABLED: 'false',
      ROOMCAST_API__KEYS: '[abcdefghijklmnopqrstuvwxyz0123]',
      UNRELATED: 'x',
    });
    expect(c.server.port).toBe(9090);
    expect(c.conference.enabled).toBe(false);
    expect(c.api.keys).toEqual(['abcdefghijklmnopqrstuvwxyz0123']);
  });

  it('a bad env override names the variable', () => {
    const e = errorOf(() => loadConfig(undefined, { ROOMCAST_SERVER__PORT: 'abc' }));
    expect(e.message).toContain('env ROOMCAST_SERVER__PORT');
    const e2 = errorOf(() => loadConfig(undefined, { ROOMCAST_SERVER__PROT: '1' }));
    expect(e2.message).toContain('unknown key "server.prot"');
  });
});
