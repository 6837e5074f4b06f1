import { benchSimulatedCalls } from './simulated-calls.ts';
import { fmt } from './format.ts';

const flows = [
  {
    title:
      "the seed's example callflow (notification at channel_destroy → user → voicemail, which is not built yet and is skipped as unknown), caller not answered; each call queues its email in the outbox",
    file: '../callflows/example/scenarios/no-answer-voicemail.json',
    steps: 3,
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
        `peak RSS ${fmt(r.peakRssMb)} MB after ${fmt(total)} calls (heap ${fmt(r.heapMb)} MB, step log ${fmt(r.dbMb)} MB)`,
    );
  }
}
