// Chassis power and the next boot device over IPMI (ipmitool.ts): what
// `crossguard power` and `crossguard flash` do to a lab server.
//
// IPMI's "power cycle" is refused by many BMCs when the chassis is off (the
// spec leaves it to them), so cycle and pxe look at the state first and
// power on a machine that is off.

import { formatBmc } from './bmc.js';
import { BmcCommandError } from './errors.js';
import { ipmi, type IpmiTarget, type RunIpmiOptions } from './ipmitool.js';

export type PowerAction = 'status' | 'on' | 'off' | 'cycle' | 'pxe';
export const POWER_ACTIONS: readonly PowerAction[] = ['status', 'on', 'off', 'cycle', 'pxe'];

/** Reads "Chassis Power is on|off" (pure); null when the output says neither. */
export function parsePowerStatus(stdout: string): 'on' | 'off' | null {
  const m = /Chassis Power is (on|off)/i.exec(stdout);
  return m ? (m[1]!.toLowerCase() as 'on' | 'off') : null;
}

/** The chassis power state; BmcCommandError when ipmitool's answer has none. */
export async function powerState(t: IpmiTarget, o: RunIpmiOptions = {}): Promise<'on' | 'off'> {
  const out = await ipmi(t, ['chassis', 'power', 'status'], o);
  const s = parsePowerStatus(out);
  if (!s) throw new BmcCommandError(`${formatBmc(t.bmc)}: unexpected answer to power status: ${out.trim() || '(nothing)'}`);
  return s;
}

/** Sets the next boot (only) to the network: IPMI Set System Boot Options, boot flags, "force PXE". */
export async function bootFromNetwork(t: IpmiTarget, o: RunIpmiOptions = {}): Promise<void> {
  await ipmi(t, ['chassis', 'bootdev', 'pxe'], o);
}

/**
 * Carries out one action; returns one line for the person (the state after
 * it, and what was done). `progress` hears each step.
 */
export async function powerAction(t: IpmiTarget, action: PowerAction, progress: (line: string) => void = () => {}, o: RunIpmiOptions = {}): Promise<string> {
  const where = formatBmc(t.bmc);
  switch (action) {
    case 'status':
      return `${where}: power ${await powerState(t, o)}`;
    case 'on':
    case 'off':
      await ipmi(t, ['chassis', 'power', action], o);
      return `${where}: power ${action} requested`;
    case 'cycle':
    case 'pxe': {
      if (action === 'pxe') {
        progress(`${where}: next boot from the network (chassis bootdev pxe)`);
        await bootFromNetwork(t, o);
      }
      const before = await powerState(t, o);
      const how = before === 'on' ? 'cycle' : 'on';
      progress(`${where}: power was ${before}: power ${how}`);
      await ipmi(t, ['chassis', 'power', how], o);
      return `${where}: ${action === 'pxe' ? 'booting from the network: ' : ''}power ${how === 'cycle' ? 'cycled' : 'on (it was off)'}`;
    }
  }
}
