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

/** The files mod_say_en plays to spell `text` (name_spelled): digits/<d> for digits, ascii/<code> otherwise. */
export function spelledFiles(text: string): string[] {
  return [...text.toLowerCase()].map((c) => (c >= '0' && c <= '9' ? `digits/${c}` : `ascii/${c.charCodeAt(0)}`));
}
