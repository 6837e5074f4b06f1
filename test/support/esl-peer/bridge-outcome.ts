import type { SwitchCommand } from '../../../engine/switch.ts';
import { planBridge } from '../../../integrations/simulator/bridge-plan.ts';
import type { Scenario } from '../../../integrations/simulator/scenario-schema.ts';
import type { BridgeSetup } from './apps.ts';
import { bridgeFailureHangsUp, switchTrue } from './causes.ts';

type BridgeCommand = Extract<SwitchCommand, { app: 'bridge' }>;

/**
 * How FreeSWITCH reports a finished bridge the simulator ran: legs the switch could not start
 * (unknown users) set the cause when nothing else was tried or they were tried last, and
 * mod_dptools decides whether the caller is hung up (the cause), or the call goes on (null).
 * `vars` are the EXECUTE_COMPLETE variables; the failure ones are corrected in place.
 */
export function bridgeOutcome(setup: BridgeSetup, command: BridgeCommand, vars: [string, string][], channelVars: ReadonlyMap<string, string>): string | null {
  const get = (n: string): string | undefined => vars.find(([k]) => k === n)?.[1];
  const disposition = get('originate_disposition');
  if (disposition === 'SUCCESS') {
    return switchTrue(channelVars.get('hangup_after_bridge')) ? get('bridge_hangup_cause') ?? 'NORMAL_CLEARING' : null;
  }
  let cause = get('originate_failed_cause') ?? disposition ?? 'NORMAL_TEMPORARY_FAILURE';
  const nothingTried = setup.endpoints.length === 0;
  const override = nothingTried ? setup.failedLegs[setup.failedLegs.length - 1]?.cause : setup.trailingFailureCause;
  if (override && (nothingTried || command.strategy === 'single')) {
    cause = override;
    for (const name of ['originate_disposition', 'originate_failed_cause', 'last_bridge_hangup_cause']) {
      const i = vars.findIndex(([k]) => k === name);
      if (i >= 0) vars[i] = [name, cause];
    }
  }
  return bridgeFailureHangsUp(cause, channelVars.get('continue_on_fail')) ? cause : null;
}

/** The leg that answered: the simulator's own plan, run again on the same inputs. */
export function answeringLeg(command: BridgeCommand, scenario: Scenario): { username: string; realm: string } | undefined {
  const plan = planBridge(command.endpoints, command.strategy, command.timeoutSeconds, (id) => scenario.devices[id] ?? { action: 'no_answer' });
  return plan.result.kind === 'answer' ? plan.result.leg.endpoint : undefined;
}
