import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.ts';

/** A configuration problem, with a message that names the file/variable, the key and why. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly problems: string[] = [message],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const ENV_PREFIX = 'ROOMCAST_';

/**
 * Env var name → config path: `ROOMCAST_SERVER__PORT` → server.port,
 * `ROOMCAST_MEDIASOUP__RTC_MIN_PORT` → mediasoup.rtcMinPort. Sections and keys are separated by a
 * double underscore; SNAKE_CASE becomes camelCase. Values are parsed as YAML scalars/flow values,
 * so `8081`, `true`, `[a, b]` work.
 */
export function envKeyToPath(name: string): string[] {
  return name
    .slice(ENV_PREFIX.length)
    .split('__')
    .map((part) => part.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()));
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

export function applyEnvOverrides(
  raw: Plain,
  env: NodeJS.ProcessEnv,
): { config: Plain; sources: Map<string, string> } {
  const config: Plain = structuredClone(raw);
  const sources = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    if (name === 'ROOMCAST_CONFIG') continue;
    const keyPath = envKeyToPath(name);
    if (keyPath.some((p) => p === '' || p === '__proto__' || p === 'constructor' || p === 'prototype')) {
      throw new ConfigError(
        `${name}: not a valid override name (use ROOMCAST_SECTION__KEY, e.g. ROOMCAST_SERVER__PORT)`,
      );
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(value);
    } catch {
      parsed = value;
    }
    if (parsed === null) parsed = value === '' ? '' : value;
    let node = config;
    for (const part of keyPath.slice(0, -1)) {
      const next = node[part];
      if (next === undefined) node[part] = {};
      else if (!isPlain(next))
        throw new ConfigError(`${name}: ${keyPath.join('.')} goes through a non-object value`);
      node = node[part] as Plain;
    }
    node[keyPath[keyPath.length - 1] as string] = parsed;
    sources.set(keyPath.join('.'), name);
  }
  return { config, sources };
}

function describe(issue: z.core.$ZodIssue, sources: Map<string, string>, file: string): string {
  const key = issue.path.map(String).join('.');
  let where = file;
  // Point at the env var when the bad value (or its parent object) came from one.
  for (const [p, envName] of sources) if (key === p || key.startsWith(p + '.')) where = `env ${envName}`;
  if (issue.code === 'unrecognized_keys') {
    const full = issue.keys.map((k) => (key ? `${key}.${k}` : k));
    return `${where}: unknown key ${full.map((k) => `"${k}"`).join(', ')} (check the spelling; see docs/configuration.md)`;
  }
  return `${where}: ${key || '(root)'}: ${issue.message}`;
}

export function validateConfig(raw: unknown, file = 'config', sources = new Map<string, string>()): Config {
  if (raw === null || raw === undefined) raw = {};
  if (!isPlain(raw))
    throw new ConfigError(`${file}: the top level must be a mapping of sections (server:, rtmp:, …)`);
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => describe(i, sources, file));
    throw new ConfigError(`invalid configuration:\n  - ${problems.join('\n  - ')}`, problems);
  }
  return result.data;
}

/** Reads the YAML file (if any), applies ROOMCAST_* env overrides, validates. Throws ConfigError. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  let raw: Plain = {};
  const label = file ? path.relative(process.cwd(), file) || file : 'defaults';
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(
        `${label}: cannot read config file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      );
    }
    const doc = parseDocument(text, { uniqueKeys: true });
    if (doc.errors.length > 0) {
      throw new ConfigError(`${label}: not valid YAML: ${doc.errors[0]?.message ?? 'parse error'}`);
    }
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined && !isPlain(value)) {
      throw new ConfigError(`${label}: the top level must be a mapping of sections (server:, rtmp:, …)`);
    }
    raw = (value as Plain | null) ?? {};
  }
  const { config, sources } = applyEnvOverrides(raw, env);
  return validateConfig(config, label, sources);
}
