import { createActor, type SnapshotFrom } from 'xstate';
import { channelMachine, type ChannelInput } from './channel-machine.ts';

type ChannelSnapshot = SnapshotFrom<typeof channelMachine>;
type Scope = Parameters<typeof channelMachine.transition>[2];

/**
 * The actor scope the channel machine is evaluated in. Its only actions are assignments, which
 * xstate applies while computing the next snapshot, so nothing is ever executed through it and
 * one scope serves every call.
 */
let sharedScope: Scope | undefined;
function scope(): Scope {
  if (!sharedScope) {
    const self = createActor(channelMachine, { input: { createdAt: 0 } });
    sharedScope = {
      self,
      id: 'channel',
      sessionId: 'channel',
      logger: () => {},
      defer: () => {},
      emit: () => {},
      stopChild: () => {},
      system: self.system,
      actionExecutor: (action: { type: string }) => {
        throw new Error(`the channel machine has no side effects, yet asked to run "${action.type}"`);
      },
    } as unknown as Scope;
  }
  return sharedScope;
}

/**
 * Whether the machine, in a given state, does anything with an event type. It has no guards, so
 * the answer depends on the state alone: ask xstate once per pair, then skip events that would
 * change nothing.
 */
const listens = new Map<string, boolean>();

/**
 * One channel's state: the channel machine stepped with xstate's actor-logic interface
 * (`getInitialSnapshot`, `transition`) rather than through an actor. The machine has no
 * timers, children or side effects, so an actor's mailbox, clock and observers would only add
 * cost to every call (they were a sixth of a simulated call's xstate time).
 */
export class ChannelState {
  private snapshot: ChannelSnapshot;

  constructor(createdAt: number) {
    this.snapshot = channelMachine.getInitialSnapshot(scope(), { createdAt });
  }

  get current(): ChannelSnapshot {
    return this.snapshot;
  }

  /** Applies a switch event, unless the current state ignores its type. */
  feed(input: ChannelInput): void {
    const key = `${String(this.snapshot.value)}|${input.type}`;
    let yes = listens.get(key);
    if (yes === undefined) {
      yes = this.snapshot.can(input);
      listens.set(key, yes);
    }
    if (yes) this.snapshot = channelMachine.transition(this.snapshot, input, scope());
  }
}
