// Where a BMC is: `ipmi://USER@HOST[:PORT][?cipher=N]` (power, flash) and
// `ipmi-sol://USER@HOST[:PORT][?cipher=N]` (the console's serial-over-LAN
// transport). `cipher` is the RMCP+ cipher suite (ipmitool -C): without it
// ipmitool asks the BMC for its list first, which costs a second on every
// command and fails on some BMCs; 3 (SHA1, AES-128) and 17 (SHA256, AES-128)
// are the common ones.
// Pure parsing. A password never goes in the address: it would show in ps
// and in shell history; it comes from the environment or a file (auth.ts).

/** An IPMI v2 (RMCP+) BMC: UDP port 623 unless given. */
export interface BmcAddress {
  user: string;
  host: string;
  port: number;
  /** RMCP+ cipher suite ID (ipmitool -C); absent: ipmitool negotiates. */
  cipher?: number;
}

export const IPMI_PORT = 623;

/** Parses `SCHEME://USER@HOST[:PORT]`; returns the address, or why it is not one (a phrase for an error line). */
export function parseBmcAddress(text: string, scheme: 'ipmi' | 'ipmi-sol'): BmcAddress | string {
  const form = `${scheme}://USER@HOST[:PORT][?cipher=N], e.g. ${scheme}://admin@bmc1.lab`;
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
  if ((url.pathname !== '' && url.pathname !== '/') || url.hash !== '')
    return `unexpected "${url.pathname}${url.hash}" after the host; expected ${form}`;
  let cipher: number | undefined;
  for (const [k, v] of url.searchParams) {
    if (k !== 'cipher') return `unknown parameter "${k}"; the only one is ?cipher=N (the RMCP+ cipher suite, ipmitool -C)`;
    cipher = /^\d{1,2}$/.test(v) ? Number(v) : NaN;
    if (!(cipher >= 0 && cipher <= 17)) return `cipher "${v}" is not a cipher suite ID from 0 to 17 (3 and 17 are the common ones)`;
  }
  let port = IPMI_PORT;
  if (url.port !== '') {
    port = Number(url.port);
    if (!(port >= 1 && port <= 65535)) return `port "${url.port}" is not a number from 1 to 65535`;
  }
  return { user: decodeURIComponent(url.username), host: url.hostname.replace(/^\[|\]$/g, ''), port, ...(cipher !== undefined ? { cipher } : {}) };
}

/** The address written back, for messages (no password: there never is one). */
export function formatBmc(a: BmcAddress, scheme: 'ipmi' | 'ipmi-sol' = 'ipmi'): string {
  const host = a.host.includes(':') ? `[${a.host}]` : a.host;
  return `${scheme}://${a.user}@${host}${a.port === IPMI_PORT ? '' : `:${a.port}`}${a.cipher !== undefined ? `?cipher=${a.cipher}` : ''}`;
}
