import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './support/sim.ts';

const cli = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, ['bin/callflow.js', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('callflow voicemail', () => {
  it('list shows the box\'s messages and play prints the audio file and its metadata', () => {
    const dir = tempDir();
    const env = { CALLFLOW_DB: join(dir, 'log.db'), CALLFLOW_OUTBOX_DIR: join(dir, 'outbox') };
    expect(cli(['simulate', 'callflows/example/scenarios/no-answer-voicemail.json'], env).status).toBe(0);

    const list = cli(['voicemail', 'list', '2000'], env);
    expect(list.status).toBe(0);
    // the example box saves after notify, and the .eml transport always succeeds
    expect(list.stdout.trim()).toBe('#1  saved    box 2000 (vmbox-alice)  from Carol Patient <+14155550100>  5.0 s  2026-01-05T14:00:33Z  email sent');
    expect(cli(['voicemail', 'list', 'vmbox-alice', '--folder', 'new'], env).stdout.trim()).toBe('no messages in box vmbox-alice (new)');

    const play = cli(['voicemail', 'play', '1'], env);
    expect(play.status).toBe(0);
    const lines = play.stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${join(dir, 'voicemail', 'acc-example', 'vmbox-alice')}/1-[0-9a-f]{10}\\.wav$`));
    expect(lines).toContain('file       80044 bytes, 5.0 s of audio');

    const missing = cli(['voicemail', 'play', '7'], env);
    expect([missing.status, missing.stderr.trim()]).toEqual([1, 'voicemail play: no message #7']);
    const bad = cli(['voicemail', 'list', '2000', '--folder', 'inbox'], env);
    expect([bad.status, bad.stderr.trim()]).toEqual([2, "callflow voicemail list: --folder must be one of new, saved, deleted (got \"inbox\")"]);
  });
});
