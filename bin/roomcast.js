#!/usr/bin/env node
// Plain JS entry for `npx roomcast`: registers tsx so the TypeScript CLI runs without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../gateway/src/cli/main.ts');
