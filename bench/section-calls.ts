import { benchSimulatedCalls } from './simulated-calls.ts';
import { fmt } from './format.ts';

const flows = [
  {
    title:
      "the seed's example callflow (notification at channel_destroy → user → voicemail), nobody answers, the caller leaves a 5 s message; each call stores a message and its WAV and queues three emails",
    file: 'fixtures/seed-scenario.json',
    steps: 3,
  },
  {
    title: 'voicemail compose alone: greeting, beep, a 5 s message kept with its WAV file, voicemail-to-email queued',
    file: 'fixtures/vm-scenario.json',
    steps: 1,
  },
  {
    title: 'three user nodes (no answer 10 s → busy → answered after 12 s, 60 s talk)',
    file: 'fixtures/scenario.json',
    steps: 3,
  },
];
for (const flow of flows) {
  console.log(`simulated calls: ${flow.title}; step log in a SQLite file`);
  const rounds = await benchSimulatedCalls(flow.file, [10_000, 30_000], flow.steps);
  let total = 0;
  for (const r of rounds) {
    total += r.calls;
    console.log(
      `  ${fmt(r.calls).padStart(6)} calls in ${fmt(r.seconds, 2)} s: ${fmt(r.callsPerSecond)} calls/s; ` +
        `peak RSS ${fmt(r.peakRssMb)} MB after ${fmt(total)} calls (heap ${fmt(r.heapMb)} MB, step log ${fmt(r.dbMb)} MB)` +
        (r.messages > 0 ? `; ${fmt(r.messages)} voicemail messages, ${fmt(r.mediaMb)} MB of WAV` : ''),
    );
  }
}
