/**
 * A fixed piece of CPU work (object building, JSON, string hashing: the kind of work a simulated
 * call does), timed. This VM's speed drifts by 25-40% from one quarter of an hour to the next
 * with nothing else running on it; printed beside each flow's figures, it tells a slow moment
 * from a slow engine.
 */
export function cpuProbeMs(): number {
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    let h = 0;
    for (let i = 0; i < 40_000; i++) {
      const row = { ord: i, at: 1_700_000_000_000 + i, name: 'CHANNEL_EXECUTE_COMPLETE', headers: { 'Application-UUID': `app-${i}`, 'Answer-State': 'answered' } };
      const text = JSON.stringify(row);
      for (let j = 0; j < text.length; j += 7) h = (h * 31 + text.charCodeAt(j)) | 0;
      h ^= (JSON.parse(text) as { ord: number }).ord;
    }
    if (h === 42) console.log('');
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}
