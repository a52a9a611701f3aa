// MAC addresses as operators write them (52:54:00:AB:CD:EF, 52-54-00-ab-cd-ef,
// 5254.00ab.cdef, 525400abcdef), always written one way: lowercase with
// colons, as iPXE's ${mac} and GRUB's $net_default_mac print them.

import { PxeInputError } from './errors.js';

const SPELLINGS = [
  /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i, // 52:54:00:ab:cd:ef, 52-54-00-ab-cd-ef
  /^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i, // 5254.00ab.cdef
  /^[0-9a-f]{12}$/i, // 525400abcdef
];

/** The MAC in `text`, lowercase with colons; PxeInputError (naming `what`) when it is not one NIC's address. */
export function parseMac(text: string, what = 'MAC'): string {
  const t = text.trim();
  if (!SPELLINGS.some((re) => re.test(t)))
    throw new PxeInputError(
      `${what} ${JSON.stringify(text)} is not a MAC address; write six hex bytes, e.g. 52:54:00:12:34:56 (also accepted: 52-54-00-12-34-56, 5254.0012.3456, 525400123456)`,
    );
  const hex = t.replace(/[:.-]/g, '').toLowerCase();
  const mac = hex.match(/../g)!.join(':');
  if (parseInt(hex.slice(0, 2), 16) & 1)
    throw new PxeInputError(`${what} ${mac} is a multicast address (lowest bit of the first byte set); give the NIC's own address`);
  if (hex === '000000000000') throw new PxeInputError(`${what} ${mac} is all zeros; give the NIC's own address`);
  return mac;
}

/** The MAC as a file name: 52-54-00-12-34-56 (iPXE's ${mac:hexhyp}). */
export function macFileName(mac: string): string {
  return mac.replace(/:/g, '-');
}
