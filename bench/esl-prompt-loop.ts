import { next } from '../engine/executor/next.ts';
import type { CallflowModule } from '../engine/module.ts';

/**
 * A module that exists only in the benchmark: answers, then plays its prompt again and again
 * until the caller hangs up, so every call keeps sending commands for as long as it is up.
 */
export const promptLoop: CallflowModule<{ prompt: string }> = {
  name: 'bench_prompt_loop',
  summary: 'bench only: answer, then play the prompt in a loop until the caller hangs up',
  schema: {
    type: 'object',
    properties: { prompt: { type: 'string', minLength: 1 } },
    required: ['prompt'],
    additionalProperties: false,
  },
  async handle(data, call) {
    await call.answer();
    while (!call.gone) {
      try {
        await call.playback(data.prompt);
      } catch (err) {
        if (call.gone) break;
        throw err;
      }
    }
    return next.stop();
  },
};
