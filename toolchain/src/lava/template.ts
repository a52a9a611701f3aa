// The lab form of a crossguard board (pure): the device-type template and
// the device dictionary lava-server keeps, which it renders with its own
// base template (base.jinja2, from the lava-server package) into the device
// file a dispatcher gets. `crossguard lava device` writes both beside the
// rendered device file (device.ts) that lava-run takes here; rendered by
// lava-server they give that same device (test/toolchain/lava-template.test.ts
// renders them with LAVA's own templates).
//
// lava-server's layout: device-type templates in
// /etc/lava-server/dispatcher-config/device-types/<type>.jinja2, device
// dictionaries in /etc/lava-server/dispatcher-config/devices/<hostname>.jinja2
// (or `lavacli device-types template set` and `lavacli devices dict set`).
//
// The template extends base.jinja2 the way LAVA's own x86 templates do: it
// sets base's variables (timeouts, character delays), replaces the
// `constants` block (crossguard's boot loader prompts and errors, the
// monitor's first and last lines) and fills the `body` block (the methods).
// base.jinja2 writes the dictionary's power and serial commands.

import { LAVA_BOOTS, type LavaBoot } from './job.js';
import {
  BOOTLOADER_TIMEOUT_S, bootCharacterDelay, bootMethod, boardCommands, deployMethod, deviceConstants, POWER_TIMEOUT_S, qemuMethodOptions,
  type DeviceInput,
} from './device.js';

/** The variables a dictionary sets (besides base.jinja2's own). */
export const BOOT_METHODS_VAR = 'crossguard_boot_methods';
const QEMU_OPTIONS_VAR = 'crossguard_qemu_options';

/** A value as a Jinja2 string literal. */
export function jinjaString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/** JSON is YAML, and it never opens `{{`, `{%` or `{#`: safe as Jinja2 text. */
const yaml = (v: unknown) => JSON.stringify(v);

// base.jinja2's timeout variables this template gives its own defaults (seconds).
const TIMEOUT_VARS: [string, number][] = [
  ['action_timeout_power_off', POWER_TIMEOUT_S],
  ['action_timeout_reset_device', POWER_TIMEOUT_S],
  ['action_timeout_pdu_reboot', POWER_TIMEOUT_S],
  ['connection_timeout_bootloader_commands', BOOTLOADER_TIMEOUT_S],
  ['connection_timeout_bootloader_interrupt', BOOTLOADER_TIMEOUT_S],
];

/** The device-type template `<type>.jinja2`. */
export function deviceTypeTemplate(type: string): string {
  const constants = deviceConstants();
  const retries = new Set(['failure_retry', 'boot_retry']);
  const m = BOOT_METHODS_VAR;
  const lines = [
    `{# ${type}: a lab server whose serial line carries crossguard's monitor (written by`,
    `   crossguard lava device; docs/lava.md). A device dictionary extends it and sets`,
    `   connection_command, hard_reset_command, power_on_command, power_off_command`,
    `   (base.jinja2's), ${m} (default ['ipxe', 'grub']), and may set`,
    `   boot_character_delay, ${QEMU_OPTIONS_VAR} and the timeouts below. #}`,
    `{% extends 'base.jinja2' %}`,
    ...TIMEOUT_VARS.map(([v, d]) => `{% set ${v} = ${v} | default(${d}) %}`),
    `{% set ${m} = ${m} | default(['ipxe', 'grub']) %}`,
    `{% set ${QEMU_OPTIONS_VAR} = ${QEMU_OPTIONS_VAR} | default(${yaml(qemuMethodOptions(2, 512))}) %}`,
    '{% block constants %}',
    'constants:',
    ...Object.entries(constants).filter(([k]) => !retries.has(k)).map(([k, v]) => `  ${k}: ${yaml(v)}`),
    ...[...retries].map((k) => `  ${k}: {{ ${k} | default(${yaml(constants[k])}) }}`),
    '{% endblock constants %}',
    '{% block body %}',
    'available_architectures: ["x86_64"]',
    'actions:',
    '  deploy:',
    `{% if ${m} | reject('equalto', 'minimal') | list %}`,
    '    methods:',
    `{% if 'ipxe' in ${m} or 'grub' in ${m} %}`,
    `      tftp: ${yaml(deployMethod('ipxe')![1])}`,
    '{% endif %}',
    `{% if 'qemu' in ${m} %}`,
    `      image: ${yaml(deployMethod('qemu')![1])}`,
    '{% endif %}',
    '{% else %}',
    '    methods: {}',
    '{% endif %}',
    '  boot:',
    '    connections:',
    '      serial: {}',
    '    methods:',
    ...LAVA_BOOTS.flatMap((b) => [`{% if '${b}' in ${m} %}`, `      ${b}: ${methodText(b)}`, '{% endif %}']),
    '{% endblock body %}',
    '',
  ];
  return lines.join('\n');
}

/** A boot method's entry as template text; the qemu method's options come from the dictionary. */
function methodText(b: LavaBoot): string {
  if (b !== 'qemu') return yaml(bootMethod(b, 2, 512));
  // `{{ … }}` then the closing braces of the two mappings it sits in.
  return `{"parameters": {"command": "qemu-system-x86_64", "options": {{ ${QEMU_OPTIONS_VAR} | tojson }}}}`;
}

/** The device dictionary `<hostname>.jinja2` of an emulated board (the same device renderDevice gives). */
export function deviceDictionary(hostname: string, type: string, i: DeviceInput): string {
  const set = (k: string, v: string) => `{% set ${k} = ${v} %}`;
  const lines = [`{# ${hostname}: a crossguard board (written by crossguard lava device) #}`, `{% extends '${type}.jinja2' %}`, set(BOOT_METHODS_VAR, `['${i.boot}']`)];
  const commands = boardCommands(i);
  // base.jinja2 writes each command as it is: quoted here, so YAML reads the whole line.
  if (commands)
    for (const [k, v] of [['connection_command', commands.connect], ['hard_reset_command', commands.hard_reset], ['power_on_command', commands.power_on], ['power_off_command', commands.power_off]] as const)
      lines.push(set(k, jinjaString(JSON.stringify(v))));
  const delay = bootCharacterDelay(i.boot);
  if (delay) lines.push(set('boot_character_delay', String(delay)));
  if (i.boot === 'qemu') lines.push(set(QEMU_OPTIONS_VAR, yaml(qemuMethodOptions(i.cpus, i.memMiB))));
  if (i.powerTimeoutS !== undefined)
    for (const [v] of TIMEOUT_VARS.filter(([v]) => v.startsWith('action_'))) lines.push(set(v, String(i.powerTimeoutS)));
  return `${lines.join('\n')}\n`;
}
