import type { CallControl, FinalCallState } from '../../engine/call/call-control.ts';
import { handlerKey } from '../../engine/call/post-hangup.ts';
import { next, type Next } from '../../engine/executor/next.ts';
import type { CallflowModule } from '../../engine/module.ts';
import type { HangupCause } from '../../engine/switch.ts';
import { createRegistry } from '../../modules/index.ts';

type Data = Record<string, unknown>;
const mod = (name: string, handle: (d: Data, call: CallControl) => Promise<Next>): CallflowModule<Data> => ({
  name,
  summary: `test module ${name}`,
  schema: { type: 'object' },
  handle,
});

/** What post-hangup handlers of the test registry saw, in run order. */
export interface HandlerRun {
  key: string;
  final: FinalCallState;
  /** When the handler ran, on the call's clock. */
  at: number;
}

/**
 * Modules that exercise one executor rule each. They exist only in tests; the shipped
 * registry never contains them.
 */
export function testRegistry(runs: HandlerRun[] = []) {
  return createRegistry()
    .register(mod('test_continue', async (d) => next.continue((d.key as string | undefined) ?? '_')))
    .register(mod('test_attempt', async (d) => next.attempt(d.keys as string[])))
    .register(mod('test_stop', async (d) => next.stop(d.cause as HangupCause | undefined)))
    .register(mod('test_wait', async () => next.wait()))
    .register(
      mod('test_throw', async (d) => {
        throw new TypeError(String(d.message ?? 'boom'));
      }),
    )
    .register(
      mod('test_sleep', async (d, call) => {
        await call.sleep(Number(d.ms ?? 1000));
        return next.continue();
      }),
    )
    .register(
      mod('test_answer', async (_d, call) => {
        await call.answer();
        return next.continue();
      }),
    )
    .register(
      mod('test_on_hangup', async (d, call) => {
        call.onHangup({
          key: handlerKey('test_on_hangup', d),
          module: 'test_on_hangup',
          run: async (final) => {
            runs.push({ key: handlerKey('test_on_hangup', d), final, at: call.now() });
            return { saw_cause: final.hangup?.cause ?? null };
          },
        });
        return next.continue();
      }),
    );
}
