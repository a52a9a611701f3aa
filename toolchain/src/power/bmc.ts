// Where a BMC is: `ipmi://USER@HOST[:PORT]` (power, flash) and
// `ipmi-sol://USER@HOST[:PORT]` (the console's serial-over-LAN transport).
// Pure parsing. A password never goes in the address: it would show in ps
// and in shell history; it comes from the environment or a file (auth.ts).

/** An IPMI v2 (RMCP+) BMC: UDP port 623 unless given. */
export interface BmcAddress {
  user: string;
  host: string;
  port: number;
}

export const IPMI_PORT = 623;

/** Parses `SCHEME://USER@HOST[:PORT]`; returns the address, or why it is not one (a phrase for an error line). */
export function parseBmcAddress(text: string, scheme: 'ipmi' | 'ipmi-sol'): BmcAddress | string {
  const form = `${scheme}://USER@HOST[:PORT], e.g. ${scheme}://admin@bmc1.lab`;
  if (!text.startsWith(`${scheme}://`)) return `expected ${form}`;
  let url: URL;
  try {
    // URL parses the authority of a special-looking scheme only; borrow ssh's grammar.
    url = new URL(`ssh://${text.slice(scheme.length + 3)}`);
  } catch {
    return `expected ${form}`;
  }
  if (url.password !== '')
    return 'do not put a password in the address (it shows in ps and shell history); set CG_BMC_PASSWORD (or IPMI_PASSWORD), or pass --password-file FILE';
  if (url.username === '') return `name the BMC user: ${scheme}://USER@${url.host || 'HOST'}`;
  if (url.hostname === '') return `name the BMC host: ${form}`;
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '')
    return `unexpected "${url.pathname}${url.search}${url.hash}" after the host; expected ${form}`;
  let port = IPMI_PORT;
  if (url.port !== '') {
    port = Number(url.port);
    if (!(port >= 1 && port <= 65535)) return `port "${url.port}" is not a number from 1 to 65535`;
  }
  return { user: decodeURIComponent(url.username), host: url.hostname.replace(/^\[|\]$/g, ''), port };
}

/** The address written back, for messages (no password: there never is one). */
export function formatBmc(a: BmcAddress, scheme: 'ipmi' | 'ipmi-sol' = 'ipmi'): string {
  const host = a.host.includes(':') ? `[${a.host}]` : a.host;
  return `${scheme}://${a.user}@${host}${a.port === IPMI_PORT ? '' : `:${a.port}`}`;
}
