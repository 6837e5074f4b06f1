/** How the simulator names a played file: `vm-record_message`, `/sounds/beep.wav` → `beep`, tones → `beep`. */
export function promptName(file: string): string {
  if (file.startsWith('tone_stream://')) return 'beep';
  const base = file.slice(file.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

export function matchesPrompt(file: string, wanted: string): boolean {
  return file === wanted || promptName(file) === wanted;
}
