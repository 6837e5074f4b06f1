import { EngineError, UsageError } from '../engine/errors.ts';
import { parseCommandArgs, type Command, type Io } from './command.ts';
import { simulateCommand } from './commands/simulate.ts';
import { traceListCommand, traceShowCommand } from './commands/trace.ts';
import { validateCommand } from './commands/validate.ts';
import { notificationsDeliverCommand, notificationsListCommand, notificationsRetryCommand } from './commands/notifications.ts';
import { templatePreviewCommand } from './commands/template-preview.ts';
import { coverageCommand } from './commands/coverage.ts';
import { traceTailCommand } from './commands/trace-tail.ts';
import { voicemailListCommand, voicemailPlayCommand } from './commands/voicemail.ts';
import { serveCommand } from './commands/serve.ts';

const commands: readonly Command[] = [
  validateCommand,
  simulateCommand,
  traceListCommand,
  traceShowCommand,
  traceTailCommand,
  coverageCommand,
  notificationsListCommand,
  notificationsRetryCommand,
  notificationsDeliverCommand,
  templatePreviewCommand,
  voicemailListCommand,
  voicemailPlayCommand,
  serveCommand,
];

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'callflow: run KAZOO callflows on a simulated switch, inspect their step log, manage the notification outbox',
    '',
    'usage: callflow <command> [options]   (callflow <command> --help for more)',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

/** Picks the longest command name the arguments start with ("trace show" before "trace"). */
function pick(argv: string[]): { cmd: Command; rest: string[] } | undefined {
  let best: { cmd: Command; rest: string[] } | undefined;
  for (const cmd of commands) {
    const words = cmd.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.cmd.name.split(' ').length)) {
      best = { cmd, rest: argv.slice(words.length) };
    }
  }
  return best;
}

export async function main(argv: string[], io: Io): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(overview());
    return argv.length === 0 ? 2 : 0;
  }
  const found = pick(argv);
  if (!found) {
    const group = commands.filter((c) => c.name.startsWith(`${argv[0]} `));
    if (group.length > 0 && (argv.length === 1 || argv[1] === '--help' || argv[1] === '-h')) {
      io.out(group.map((c) => `${c.usage}\n  ${c.summary}`).join('\n'));
      return argv.length === 1 ? 2 : 0;
    }
    io.err(`callflow: unknown command "${argv.slice(0, group.length > 0 ? 2 : 1).join(' ')}" (see callflow --help)`);
    return 2;
  }
  const { cmd, rest } = found;
  try {
    const args = parseCommandArgs(cmd, rest);
    if (args.values.help) {
      io.out(`usage: ${cmd.usage}\n\n${cmd.help}`);
      return 0;
    }
    return await cmd.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      // Helpers shared by commands (a flag's value, the step log) do not know which one called them.
      io.err(`callflow ${err.message.startsWith(`${cmd.name}:`) ? err.message : `${cmd.name}: ${err.message}`}`);
      return 2;
    }
    if (err instanceof EngineError) {
      io.err(err.message);
      return 1;
    }
    io.err(`callflow ${cmd.name}: ${(err as Error).message.split('\n')[0]}`);
    return 1;
  }
}
