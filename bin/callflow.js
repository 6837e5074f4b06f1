#!/usr/bin/env -S node --max-semi-space-size=8
// An 8 MB young generation (V8's default is 16): 10-25 MB less peak memory on a long simulation
// batch at the same calls/s within the noise; 4 MB saved more but cost voicemail calls ~8% (README,
// "Memory"). `npm start` and the bench pass the same flag; `node bin/callflow.js` without it runs
// on V8's default.
// The CLI is TypeScript run through tsx's loader, so there is no build step to forget.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
const code = await main(process.argv.slice(2), {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  env: process.env,
  isTty: Boolean(process.stdout.isTTY),
});
process.exitCode = code;
