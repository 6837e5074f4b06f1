// A loopback SMTP server for the benchmark, in its own process: prints "port N", then one line
// "ok <Message-ID> <wall ms>" per accepted message.
import { SMTPServer } from 'smtp-server';

const server = new SMTPServer({
  disabledCommands: ['STARTTLS', 'AUTH'],
  authOptional: true,
  logger: false,
  onData(stream, _session, cb) {
    let head = '';
    stream.on('data', (c: Buffer) => {
      if (head.length < 4096) head += c.toString('utf8');
    });
    stream.on('end', () => {
      const id = /^Message-ID:\s*(\S+)/im.exec(head)?.[1] ?? '?';
      cb();
      process.stdout.write(`ok ${id} ${Date.now()}\n`);
    });
  },
});
server.listen(0, '127.0.0.1', () => {
  const addr = (server as unknown as { server: { address(): { port: number } } }).server.address();
  process.stdout.write(`port ${addr.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
