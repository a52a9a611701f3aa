// The lab form of a crossguard board (toolchain/src/lava/template.ts): the
// device-type template and device dictionary `crossguard lava device`
// writes, rendered the way lava-server renders a device (Jinja2's sandbox,
// trim_blocks, the dictionary's directory first, then the device types)
// with LAVA's own base.jinja2 from Debian's lava-server package (unpacked by
// toolchain/setup.sh; a real server's copy is used when there is one). The
// result must pass lava_common's device schema and hold every value of the
// rendered device file lava-run takes (device.ts), for each board.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderDevice, type DeviceInput } from '../../toolchain/src/lava/device.js';
import { deviceDictionary, deviceTypeTemplate, jinjaString } from '../../toolchain/src/lava/template.js';

const PY = '/usr/bin/python3';
/** Where LAVA's device-type templates are: lava-server's own directories, then setup.sh's unpacked copy. */
const LAVA_DIRS = ['/etc/lava-server/dispatcher-config/device-types', '/usr/share/lava-server/device-types', '/var/cache/crossguard/lava-server-device-types'];
const lavaDir = LAVA_DIRS.find((d) => existsSync(join(d, 'base.jinja2')));
const canRender = !!lavaDir && spawnSync(PY, ['-c', 'import jinja2, yaml, lava_common.schemas'], { encoding: 'utf8' }).status === 0;

// As lava_scheduler_app's environment and Device.load_configuration do; every
// device of the file in one Python (its imports take a second).
const RENDER_PY = `
import json, sys, traceback, yaml
from jinja2 import FileSystemLoader
from jinja2.sandbox import SandboxedEnvironment
from lava_common.schemas import device as schema
out = []
for devices, types, lava, host in json.load(sys.stdin):
    try:
        env = SandboxedEnvironment(loader=FileSystemLoader([devices, types, lava]), autoescape=False, trim_blocks=True, cache_size=-1)
        d = yaml.safe_load(env.get_template(host + '.jinja2').render())
        schema.validate(d)
        out.append({'device': d})
    except Exception:
        out.append({'error': traceback.format_exc()})
print(json.dumps(out))
`;

type Rendered = { device: Record<string, unknown> } | { error: string };

/** Renders each [devicesDir, typesDir, hostname] the way lava-server does. */
function render(jobs: [string, string, string][]): Rendered[] {
  const r = spawnSync(PY, ['-c', RENDER_PY], { input: JSON.stringify(jobs.map(([d, t, h]) => [d, t, lavaDir, h])), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Rendered[];
}

/** Every leaf of want, by path, that got does not hold with the same value. */
function missing(want: unknown, got: unknown, path = ''): string[] {
  if (want !== null && typeof want === 'object' && !Array.isArray(want)) {
    const g = got !== null && typeof got === 'object' && !Array.isArray(got) ? (got as Record<string, unknown>) : {};
    const entries = Object.entries(want as Record<string, unknown>);
    // An empty mapping must be there (as {} or nothing at all: YAML's empty value).
    if (entries.length === 0) return got === undefined || (got !== null && typeof got === 'object') || got === null ? [] : [`${path} is ${JSON.stringify(got)}`];
    return entries.flatMap(([k, v]) => missing(v, g[k], `${path}.${k}`));
  }
  return JSON.stringify(want) === JSON.stringify(got) ? [] : [`${path}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`];
}

// A board command whose path needs quoting in YAML and in the shell (a space, ': ' and a quote).
const odd = "/tmp/lab: o'brien/board.json";
const boards: DeviceInput[] = [
  { emulator: 'bochs', boot: 'minimal', boardCommand: ['/usr/bin/node', '/opt/cg/lava-board.mjs'], boardFile: odd, cpus: 2, memMiB: 512 },
  { emulator: 'qemu', boot: 'qemu', boardCommand: [], boardFile: '', cpus: 1, memMiB: 256 },
  { emulator: 'qemu', boot: 'ipxe', boardCommand: ['/usr/bin/node', '/opt/cg/lava-board.mjs'], boardFile: '/tmp/b.json', cpus: 2, memMiB: 512, powerTimeoutS: 45 },
  { emulator: 'qemu', boot: 'grub', boardCommand: ['/usr/bin/node', '/opt/cg/lava-board.mjs'], boardFile: odd, cpus: 2, memMiB: 512 },
];

test('the template extends base.jinja2 and fills only blocks base.jinja2 has; Jinja2 string literals', () => {
  const t = deviceTypeTemplate('crossguard-qemu');
  assert.match(t, /^\{# crossguard-qemu: [^]*?#\}\n\{% extends 'base\.jinja2' %\}\n/);
  const blocks = [...t.matchAll(/\{% block (\w+) %\}/g)].map((m) => m[1]);
  assert.equal(blocks, ['constants', 'body']);
  // The same blocks in LAVA's base.jinja2 (when it is here).
  if (lavaDir) for (const b of blocks) assert.match(readFileSync(join(lavaDir, 'base.jinja2'), 'utf8'), new RegExp(`\\{% block ${b} %\\}`));
  assert.is(jinjaString(`a'b\\c`), String.raw`'a\'b\\c'`);
  const dict = deviceDictionary('cg-01', 'crossguard-qemu', boards[3]!);
  assert.match(dict, /^\{# cg-01: [^\n]*#\}\n\{% extends 'crossguard-qemu\.jinja2' %\}\n\{% set crossguard_boot_methods = \['grub'\] %\}\n/);
});

// Each board's template and dictionary, written as `lava device` lays them out, rendered together.
const tplDir = mkdtempSync(join(tmpdir(), 'cg-lava-tpl-'));
const typeOf = (b: DeviceInput) => (b.emulator === 'bochs' ? 'crossguard-bochs' : 'crossguard-qemu');
mkdirSync(join(tplDir, 'devices'));
mkdirSync(join(tplDir, 'device-types'));
boards.forEach((b, i) => {
  writeFileSync(join(tplDir, 'device-types', `${typeOf(b)}.jinja2`), deviceTypeTemplate(typeOf(b)));
  writeFileSync(join(tplDir, 'devices', `cg-${i}.jinja2`), deviceDictionary(`cg-${i}`, typeOf(b), b));
});
// The template's default methods, under a dictionary an operator would write for a real server.
writeFileSync(join(tplDir, 'device-types', 'crossguard-x86.jinja2'), deviceTypeTemplate('crossguard-x86'));
writeFileSync(join(tplDir, 'devices', 'server-7.jinja2'), `{% extends 'crossguard-x86.jinja2' %}\n{% set connection_command = 'ipmitool -I lanplus -H bmc7 -U lava -E sol activate' %}\n`);
const rendered = canRender
  ? render([...boards.map((_, i): [string, string, string] => [join(tplDir, 'devices'), join(tplDir, 'device-types'), `cg-${i}`]), [join(tplDir, 'devices'), join(tplDir, 'device-types'), 'server-7']])
  : [];
const why = !lavaDir ? `no base.jinja2 in ${LAVA_DIRS.join(', ')} (toolchain/setup.sh unpacks lava-server's)` : `${PY} lacks jinja2, yaml or lava_common`;
const deviceOf = (r: Rendered | undefined): Record<string, unknown> => {
  assert.ok(r && 'device' in r, `lava-server's rendering failed:\n${r && 'error' in r ? r.error : 'no result'}`);
  return (r as { device: Record<string, unknown> }).device;
};

boards.forEach((b, i) =>
  test(`rendered by LAVA's own base.jinja2, the ${b.emulator} board's lab form (boot ${b.boot}) is the device file lava-run takes`, () => {
    if (!canRender) return void console.log(`  (skipped: ${why})`);
    const got = deviceOf(rendered[i]);
    assert.equal(missing(renderDevice(b), got), []);
    // Only the methods this board offers.
    const actions = got.actions as { boot: { methods: object } };
    assert.equal(Object.keys(actions.boot.methods), [b.boot]);
  }),
);

test("a dictionary that names no boot methods gets the template's default: ipxe and grub, tftp deploy", () => {
  if (!canRender) return;
  const got = deviceOf(rendered[boards.length]) as { actions: { boot: { methods: object }; deploy: { methods: object } }; commands: { connect: string } };
  assert.equal(Object.keys(got.actions.boot.methods), ['ipxe', 'grub']);
  assert.equal(Object.keys(got.actions.deploy.methods), ['tftp']);
  assert.is(got.commands.connect, 'ipmitool -I lanplus -H bmc7 -U lava -E sol activate');
});

test.after(() => rmSync(tplDir, { recursive: true, force: true }));

test.run();
