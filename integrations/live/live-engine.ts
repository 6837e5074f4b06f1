import type { AccountView } from '../../engine/call/account-view.ts';
import { executeCall, type EngineDeps, type Logger } from '../../engine/execution.ts';
import type { Router } from '../../engine/routing.ts';
import type { OutboundCall } from '../freeswitch/index.ts';
import { callLine } from './call-line.ts';

/**
 * The account's device a live call comes from: only a caller FreeSWITCH authenticated
 * (`sip_authorized=true`, digest username `sip_auth_username` in realm `sip_auth_realm`). The
 * From header (`sip_from_user`) is whatever the caller wrote, so it never names a device: a
 * spoofed From would otherwise pass for the owner and skip the voicemail PIN. That is KAZOO's
 * authorizing_id, which `user` and `voicemail` use to recognise the caller.
 */
export function callingDevice(account: AccountView, variables: Readonly<Record<string, string>>): string | undefined {
  if (variables['sip_authorized'] !== 'true') return undefined;
  const user = variables['sip_auth_username'];
  if (!user) return undefined;
  const realm = variables['sip_auth_realm'];
  const d = account.bundle.devices.find((x) => x.sip.username === user && (!realm || (x.sip.realm ?? account.realm) === realm));
  return d?.id;
}

/**
 * Calls on their way in that are not the engine's yet: sockets still in their handshake (the
 * outbound server). Each ends in `onCall` or is given up on with a log line.
 */
export interface Arrivals {
  handshaking(): number;
  /** Settles once none is left. */
  handshakesDone(): Promise<void>;
}

/**
 * Runs every call FreeSWITCH hands over through the engine, one execution each, and keeps
 * track of the ones in flight so a shutdown can let them finish (post-hangup work included).
 */
export class LiveEngine {
  /** Each call's execution with its log line: settled means done with, and out of the set. */
  private readonly running = new Set<Promise<void>>();
  private accepting = true;

  constructor(
    private readonly deps: EngineDeps,
    private readonly account: AccountView,
    private readonly router: Router,
    private readonly logger: Logger,
  ) {}

  /**
   * The outbound server's onCall: never throws, never waits. While shutting down, a call is
   * hung up at once (NORMAL_TEMPORARY_FAILURE), and recorded like any other.
   */
  readonly onCall = (call: OutboundCall): void => {
    if (!this.accepting) this.logger.warn(`call ${call.channelUuid}: refused, shutting down`);
    const deviceId = callingDevice(this.account, call.variables);
    const run = executeCall(this.deps, {
      sw: call.sw,
      channelUuid: call.channelUuid,
      account: this.account,
      router: this.router,
      callerNumber: call.callerNumber,
      callerName: call.callerName,
      calleeNumber: call.destination,
      ...(deviceId ? { deviceId } : {}),
      ...(this.accepting ? {} : { refuse: 'shutting_down' as const }),
    });
    const tracked: Promise<void> = run
      .then((s) => this.logger.info(callLine(call, s)))
      .finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  };

  get inFlight(): number {
    return this.running.size;
  }

  /**
   * Stops taking calls and waits for the ones in flight (refused ones too, which join while it
   * waits), and for the `arriving` ones still in their handshake, which join as refused ones, up
   * to `timeoutMs` or until `abort` settles. Returns how many are left (handshakes included).
   */
  async drain(timeoutMs: number, abort?: Promise<void>, arriving?: Arrivals): Promise<number> {
    this.accepting = false;
    let timer: NodeJS.Timeout | undefined;
    let over = false;
    const end = Promise.race([new Promise<void>((r) => (timer = setTimeout(r, timeoutMs))), ...(abort ? [abort] : [])]).then(() => {
      over = true;
    });
    const handshakes = (): number => arriving?.handshaking() ?? 0;
    while (this.running.size + handshakes() > 0 && !over) {
      await Promise.race([
        ...(this.running.size > 0 ? [Promise.allSettled([...this.running])] : []),
        ...(handshakes() > 0 ? [arriving!.handshakesDone()] : []),
        end,
      ]);
    }
    clearTimeout(timer);
    return this.running.size + handshakes();
  }
}
