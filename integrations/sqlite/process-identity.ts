import { readFileSync } from 'node:fs';

/**
 * When process `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat), or
 * undefined where /proc cannot tell (not Linux, no such process). The command name before it may
 * hold spaces and parentheses, so fields are counted from its last closing parenthesis.
 */
function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

let own: string | undefined;
/** This process's start, as /proc says it (or, without /proc, as V8 measured it). */
function ownStart(): string {
  own ??= startTicks(process.pid) ?? `t${Math.round(performance.timeOrigin)}`;
  return own;
}

/**
 * The name a process puts on the rows it holds (outbox messages it is sending, executions it is
 * running): "<pid>:<process start>:<token>". A pid alone does not name a process for long: in a
 * container every start is pid 1, so a restarted engine would take what its killed predecessor
 * left for its own.
 */
export function processTag(token: string): string {
  return `${process.pid}:${ownStart()}:${token}`;
}

/** Whether the process a tag names still runs on this machine. */
export function processAlive(owner: string): boolean {
  const [pidText, start, token] = owner.split(':');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  // A claim with this process's pid is ours only if it names this start (claims before the
  // start time was recorded, "<pid>:<token>", come from an earlier process).
  if (pid === process.pid) return token !== undefined && start === ownStart();
  if (token !== undefined) {
    const theirs = startTicks(pid);
    if (theirs !== undefined) return theirs === start;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
