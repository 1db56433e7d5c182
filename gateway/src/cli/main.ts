import { runCli } from './roomcast-cli.ts';

// The CLI writes to stdout on purpose (it prints the key for the operator who asked for it).
const code = runCli(process.argv.slice(2), {
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
  env: process.env,
});
process.exitCode = code;
