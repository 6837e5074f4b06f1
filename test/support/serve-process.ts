import { spawn, type ChildProcess } from 'node:child_process';

/** What a test runs after itself: the serve process is killed there if still up. */
export type Cleanup = (() => void | Promise<void>)[];

/** `callflow serve` as FreeSWITCH's lab box would run it, with its output collected as it comes. */
export function serveProcess(args: string[], env: Record<string, string>, cleanup: Cleanup) {
  const child: ChildProcess = spawn(process.execPath, ['bin/callflow.js', 'serve', ...args], { env: { ...process.env, ...env } });
  const out: string[] = [];
  const err: string[] = [];
  child.stdout!.on('data', (c: Buffer) => out.push(...c.toString().split('\n').filter(Boolean)));
  child.stderr!.on('data', (c: Buffer) => err.push(...c.toString().split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  cleanup.push(() => void child.kill('SIGKILL'));
  const until = async (what: () => boolean, label: string, ms = 10_000): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!what()) {
      if (Date.now() > deadline) throw new Error(`serve: no ${label} within ${ms} ms\nstdout: ${out.join('\n')}\nstderr: ${err.join('\n')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { child, out, err, exited, until };
}

/** The port serve says it listens on for FreeSWITCH. */
export function listeningPort(err: readonly string[]): number {
  const line = err.find((l) => l.startsWith('serve: listening for FreeSWITCH'))!;
  return Number(/ on [^ ;]+:(\d+);/.exec(line)![1]);
}
