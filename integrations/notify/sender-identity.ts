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
 * The name a dispatcher puts on the messages it claims: "<pid>:<process start>:<token>". A pid
 * alone does not name a process for long: in a container every start is pid 1, so a restarted
 * engine would take the claims its killed predecessor left for its own and wait out their lease.
 */
export function senderTag(token: string): string {
  return `${process.pid}:${ownStart()}:${token}`;
}

/** Whether the process that claimed a message still runs on this machine. */
export function senderAlive(owner: string): boolean {
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
