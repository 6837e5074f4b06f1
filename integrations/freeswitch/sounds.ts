import { UnsafeValueError } from './errors.ts';
import { appArgSafe } from './safe-values.ts';

/**
 * How the engine's prompt names become files FreeSWITCH can play. The engine (and the
 * simulator) speak of prompts by name (`vm-record_message`, `digits/5`); FreeSWITCH's playback
 * resolves a relative path against its sound prefix (`sound_prefix`, e.g.
 * /usr/share/freeswitch/sounds/en/us/callie), where the stock sounds sit in folders
 * (`voicemail/vm-record_message.wav`, `digits/5.wav`).
 */
export interface SoundOptions {
  /** A prompt name → a path relative to the sound prefix. `{name}` is the name. Default `{name}.wav`. */
  readonly template?: string;
  /** A folder put before names that start with a prefix; the longest matching prefix wins. Default `{ 'vm-': 'voicemail/' }`. */
  readonly folders?: Readonly<Record<string, string>>;
}

export const DEFAULT_SOUND_TEMPLATE = '{name}.wav';
export const DEFAULT_SOUND_FOLDERS: Readonly<Record<string, string>> = { 'vm-': 'voicemail/' };

/** What is wrong with a sound template, or undefined when it can be used. */
export function soundTemplateProblem(template: string): string | undefined {
  if (!template.includes('{name}') || /[\s\u0000-\u001f]|\$\{/.test(template)) {
    return 'must contain {name} and no spaces, control characters or ${';
  }
  return undefined;
}

/** Absolute paths and URLs (`tone_stream://`, `http_cache://`, `/var/...`) are files already. */
export function isPromptName(file: string): boolean {
  return !file.startsWith('/') && !file.includes('://');
}

/**
 * The only URLs the engine plays are tones and silence it makes itself. FreeSWITCH's other
 * schemes fetch (http_cache://) or run (shell_stream://) what they name, so a file that reached
 * here from a document must never be one of them.
 */
const PLAYABLE_SCHEMES = ['tone_stream://', 'silence_stream://'];

/** The file FreeSWITCH plays for `file`: prompt names mapped, tones and absolute paths as given. */
export function soundFile(file: string, options: SoundOptions = {}): string {
  appArgSafe('playback file', file);
  if (file.length === 0) throw new UnsafeValueError('playback file', 'is empty');
  if (file.includes('://')) {
    if (!PLAYABLE_SCHEMES.some((s) => file.startsWith(s))) {
      throw new UnsafeValueError('playback file', `only ${PLAYABLE_SCHEMES.join(' and ')} URLs are played`);
    }
    return file;
  }
  if (file.split('/').includes('..')) throw new UnsafeValueError('playback file', 'may not contain ".."');
  if (!isPromptName(file)) return file;
  const folders = options.folders ?? DEFAULT_SOUND_FOLDERS;
  let folder = '';
  let matched = -1;
  for (const [prefix, dir] of Object.entries(folders)) {
    if (file.startsWith(prefix) && prefix.length > matched) {
      folder = dir;
      matched = prefix.length;
    }
  }
  const base = file.slice(file.lastIndexOf('/') + 1);
  // A name that already carries an extension (`beep.wav`) is a relative file, not a prompt name.
  const named = /\.[A-Za-z0-9]{2,5}$/.test(base) ? file : (options.template ?? DEFAULT_SOUND_TEMPLATE).replace(/\{name\}/g, file);
  return appArgSafe('playback file', folder + named);
}
