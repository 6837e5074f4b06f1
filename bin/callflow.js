#!/usr/bin/env -S node --max-semi-space-size=8 --no-allocation-site-pretenuring
// An 8 MB young generation (V8's default is 16): 10-25 MB less peak memory on a long simulation
// batch at the same calls/s within the noise; 4 MB saved more but cost voicemail calls ~8%. No
// allocation-site pretenuring: V8 decides in the first calls, before xstate's per-step code is
// optimised, to allocate some objects straight in the old generation, and those dead objects then
// keep every later call's objects alive through two scavenges (garbage collection 20% -> 16% of a
// simulated call). README, "Memory and garbage collection". `npm start` and the bench pass the
// same flags; `node bin/callflow.js` without them runs on V8's defaults.
// The CLI is TypeScript run through tsx's loader, so there is no build step to forget.
import { register } from 'tsx/esm/api';

register();

// `callflow trace list | head -1`: the reader has what it wanted and closed the pipe. Stop there,
// as a Unix tool killed by SIGPIPE would, but quietly and with 0, so that a script running with
// `set -o pipefail` does not fail on it (Node ignores SIGPIPE and would print an EPIPE stack trace).
// Not `serve`: its call lines are a by-product, and the calls in progress must not die with
// the reader (`callflow serve | tee calls.log` and tee gone): it stops printing them and says so.
const serving = process.argv[2] === 'serve';
let stdoutGone = false;
let stderrGone = false;
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
  if (!serving) process.exit(0);
  if (!stdoutGone && !stderrGone) process.stderr.write('callflow serve: stdout is closed: call lines are no longer printed; calls go on\n');
  stdoutGone = true;
});
// Nobody reads the diagnostics any more, but stdout may still be wanted: stop writing to stderr
// and carry on, so the output is complete and the exit code still tells whether the command worked.
process.stderr.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
  stderrGone = true;
});

const { main } = await import('../cli/main.ts');
const code = await main(process.argv.slice(2), {
  out: (line) => {
    if (!stdoutGone) process.stdout.write(line + '\n');
  },
  err: (line) => {
    if (!stderrGone) process.stderr.write(line + '\n');
  },
  env: process.env,
  isTty: Boolean(process.stdout.isTTY),
});
process.exitCode = code;
