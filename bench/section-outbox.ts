import { benchOutbox } from './outbox.ts';
import { fmt } from './format.ts';

console.log('notification outbox: the engine process, and an SMTP server in its own process on loopback');
const ob = await benchOutbox(3000, 1000, 200);
console.log(`  throughput: ${fmt(ob.messages)} emails through the outbox in ${fmt(ob.messages / ob.perSecond, 2)} s: ${fmt(ob.perSecond)} emails/s`);
console.log(
  `  latency, channel destroyed → SMTP accepted, ${fmt(ob.calls)} calls at 200 calls/s: ` +
    `median ${fmt(ob.medianMs, 1)} ms, p99 ${fmt(ob.p99Ms, 1)} ms, max ${fmt(ob.maxMs, 1)} ms`,
);
