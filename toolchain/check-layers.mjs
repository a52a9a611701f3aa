// `make layers`: the monitor's layer table (firmware/layers.txt) as a check.
//
// Two readings of the same rule, "a file uses only its own layer, the
// layers its line names, and the headers everyone may use":
//   - includes: every #include "..." or <...> of firmware/**/*.{c,h}
//     that resolves to a file of the tree (as gcc would, with -Ifirmware
//     -Ifirmware/include) must point at an allowed layer; in the layer
//     folders an include must also name its layer ("core/vm.h", not "vm.h");
//   - calls: with --objects DIR (the build's obj/ folder), every undefined
//     symbol of an object is looked up among the others' definitions, and
//     the call must run the same way. This catches a call through a
//     declaration written by hand, or through a header that includes another.
// A layer's "up" header (arch's core/virt.h) lets it include that header
// and call the functions the header declares, nothing else of that layer.
//
// Usage: node toolchain/check-layers.mjs [--root DIR] [--objects DIR]
// Prints one line per violation (file:line: what, and what is allowed),
// then a summary; exits 1 on any violation, 2 on a bad table.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';

class LayerTableError extends Error {
  name = 'LayerTableError';
}

function parseArgs(argv) {
  const opts = { root: '.', objects: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--root') opts.root = argv[++i];
    else if (a === '--objects') opts.objects = argv[++i];
    else throw new LayerTableError(`unknown argument ${a}: use --root DIR and --objects DIR`);
  }
  return opts;
}

/** Reads firmware/layers.txt: layers (folders, uses), up headers, everyone folders. */
export function parseTable(text, file = 'firmware/layers.txt') {
  const layers = new Map();
  const up = new Map();
  const everyone = [];
  const privates = new Map();
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const where = `${file}:${i + 1}`;
    const words = line.split(/\s+/);
    if (words[0] === 'layer') {
      const colon = words.indexOf(':');
      if (colon < 3 || words[colon + 1] !== 'uses')
        throw new LayerTableError(`${where}: write "layer NAME FOLDER... : uses NAME..."`);
      layers.set(words[1], { name: words[1], folders: words.slice(2, colon), uses: words.slice(colon + 2) });
    } else if (words[0] === 'up' && words.length === 3) {
      up.set(words[1], words[2]);
    } else if (words[0] === 'private' && words.length > 2) {
      privates.set(words[1], words.slice(2));
    } else if (words[0] === 'everyone' && words.length > 1) {
      everyone.push(...words.slice(1));
    } else {
      throw new LayerTableError(`${where}: unknown line "${line}": see the table's header for the forms`);
    }
  });
  for (const [name, l] of layers)
    for (const u of l.uses)
      if (!layers.has(u)) throw new LayerTableError(`${file}: layer ${name} uses unknown layer ${u}`);
  for (const [from, h] of up)
    if (!layers.has(from)) throw new LayerTableError(`${file}: "up ${from} ${h}": no layer ${from}`);
  for (const l of privates.keys())
    if (!layers.has(l)) throw new LayerTableError(`${file}: "private ${l} ...": no layer ${l}`);
  return { layers, up, everyone, privates };
}

/** The layer of a path relative to firmware/, or null. A folder owns the
 * files directly in it (devices/ and devices/virtio/ are listed apart),
 * except policy/, which owns its whole subtree (rt/, lib/). */
function layerOf(table, rel) {
  const dir = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
  for (const l of table.layers.values())
    for (const f of l.folders)
      if (dir === f || (f === 'policy' && rel.startsWith('policy/'))) return l;
  return null;
}

function isEveryone(table, rel) {
  return table.everyone.some((f) => rel.startsWith(f + '/'));
}

function allowedText(table, from) {
  const parts = [`its own folders (${from.folders.join(', ')})`];
  if (from.uses.length) parts.push(`layers ${from.uses.join(', ')}`);
  parts.push(table.everyone.join(', '));
  const h = table.up.get(from.name);
  if (h) parts.push(`and of ${layerOf(table, h)?.name ?? '?'} only ${h}`);
  for (const [l, hs] of table.privates)
    if (l !== from.name && from.uses.includes(l)) parts.push(`${l} only through ${hs.join(', ')}`);
  return `${from.name} may use ${parts.join('; ')}`;
}

function walk(dir, out = []) {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** Checks every include; returns violation lines. */
export function checkIncludes(root, table) {
  const fw = join(root, 'firmware');
  const bad = [];
  const searchDirs = [fw, join(fw, 'include')];
  for (const path of walk(fw).filter((p) => /\.(c|h|S)$/.test(p))) {
    const rel = relative(fw, path).split(sep).join('/');
    const from = layerOf(table, rel);
    if (!from) continue; // include/cg, include/abi: checked below for what they include
    const fromEveryone = isEveryone(table, rel);
    readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
      const m = /^\s*#\s*include\s*([<"])([^>"]+)[>"]/.exec(line);
      if (!m) return;
      const [, kind, inc] = m;
      const where = `firmware/${rel}:${i + 1}`;
      const own = normalize(join(dirname(path), inc));
      let target = null;
      let sameDir = false;
      if (kind === '"' && existsSync(own)) {
        target = own;
        sameDir = true;
      }
      for (const d of searchDirs) {
        const p = join(d, inc);
        if (!target && existsSync(p)) target = p;
        if (sameDir && p === own) sameDir = false; // also found as a layer path: named properly
      }
      if (!target) return; // system header or generated file (build/policy)
      const trel = relative(fw, target).split(sep).join('/');
      if (sameDir && from.name !== 'policy') {
        bad.push(`${where}: #include "${inc}" does not name its layer: write "${trel}"`);
        return;
      }
      if (isEveryone(table, trel)) return;
      const to = layerOf(table, trel);
      if (!to) {
        bad.push(`${where}: #include ${inc} reaches firmware/${trel}, which is in no layer of firmware/layers.txt`);
        return;
      }
      if (fromEveryone || !allowed(table, from, to, trel))
        bad.push(`${where}: ${from.name} includes ${trel} (${to.name}): against the table; ${allowedText(table, from)}`);
    });
  }
  // Headers every layer may include must themselves include only such headers.
  for (const path of walk(fw).filter((p) => /\.h$/.test(p))) {
    const rel = relative(fw, path).split(sep).join('/');
    if (!isEveryone(table, rel)) continue;
    readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
      const m = /^\s*#\s*include\s*[<"]([^>"]+)[>"]/.exec(line);
      if (!m) return;
      const p = join(fw, m[1]);
      if (existsSync(p) && !isEveryone(table, m[1]))
        bad.push(`firmware/${rel}:${i + 1}: a header every layer includes may include only ${table.everyone.join(', ')}, not ${m[1]}`);
    });
  }
  return bad;
}

function allowed(table, from, to, trel) {
  if (from === to) return true;
  if (table.privates.has(to.name)) return false;
  if (from.uses.includes(to.name)) return true;
  const h = table.up.get(from.name);
  return h !== undefined && trel === h;
}

/** Function names a header declares: "name(" at the start of a declaration. */
function declaredFunctions(text) {
  const names = new Set();
  const noComments = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  for (const m of noComments.matchAll(/^[A-Za-z_][\w \t*]*?\b([A-Za-z_]\w*)\s*\(/gm))
    if (!/^(if|while|for|switch|return|sizeof|defined)$/.test(m[1])) names.add(m[1]);
  return names;
}

/** Checks calls between the linked objects under objDir; returns violation lines. */
export function checkSymbols(root, table, objDir) {
  const fw = join(root, 'firmware');
  // An object whose firmware source is gone (a moved or deleted file in a
  // build folder not cleaned since) is not linked any more: skip it.
  const stale = (p) => {
    const rel = relative(objDir, p).split(sep).join('/');
    if (!rel.startsWith('firmware/')) return false;
    const base = join(root, rel.replace(/\.o$/, ''));
    return !existsSync(`${base}.c`) && !existsSync(`${base}.S`);
  };
  const objects = walk(objDir).filter((p) => p.endsWith('.o') && !stale(p));
  const owner = new Map(); // symbol -> { layer, src }
  const refs = [];
  const layerOfObject = (p) => {
    const rel = relative(objDir, p).split(sep).join('/');
    if (rel.startsWith('firmware/')) {
      const src = rel.slice('firmware/'.length).replace(/\.o$/, '');
      return { layer: layerOf(table, src), src: `firmware/${src}` };
    }
    if (rel.startsWith('policy/')) return { layer: table.layers.get('policy'), src: `build/${rel}` };
    return { layer: null, src: rel }; // boot/: the entry code above every layer
  };
  const nm = execFileSync('nm', ['-A', ...objects], { encoding: 'utf8', maxBuffer: 64 << 20 });
  for (const line of nm.split('\n')) {
    const m = /^(.*?\.o):\s*(?:[0-9a-f]+)?\s+([A-Za-z])\s+(\S+)$/.exec(line);
    if (!m) continue;
    const [, obj, type, sym] = m;
    const info = layerOfObject(obj);
    if (type === 'U') refs.push({ ...info, sym });
    else if (/[TDBRCVW]/.test(type)) owner.set(sym, info);
  }
  const everyoneFns = new Set();
  for (const f of table.everyone)
    for (const p of existsSync(join(fw, f)) ? walk(join(fw, f)) : [])
      if (p.endsWith('.h')) for (const n of declaredFunctions(readFileSync(p, 'utf8'))) everyoneFns.add(n);
  const upFns = new Map();
  for (const [from, h] of table.up) upFns.set(from, declaredFunctions(readFileSync(join(fw, h), 'utf8')));
  const privateFns = new Map();
  for (const [l, hs] of table.privates) {
    const fns = new Set();
    for (const h of hs) for (const n of declaredFunctions(readFileSync(join(fw, h), 'utf8'))) fns.add(n);
    privateFns.set(l, fns);
  }
  const bad = new Set();
  for (const r of refs) {
    const def = owner.get(r.sym);
    if (!def || !def.layer || !r.layer) continue; // linker-script symbols; boot code
    if (r.layer === def.layer || everyoneFns.has(r.sym)) continue;
    const priv = privateFns.get(def.layer.name);
    if (r.layer.uses.includes(def.layer.name) && (!priv || priv.has(r.sym))) continue;
    const h = table.up.get(r.layer.name);
    if (h && layerOf(table, h) === def.layer && upFns.get(r.layer.name).has(r.sym)) continue;
    const src = [`${r.src}.c`, `${r.src}.S`].map((s) => join(root, s)).find((s) => existsSync(s));
    let where = src ? relative(root, src).split(sep).join('/') : r.src;
    if (src) {
      const lines = readFileSync(src, 'utf8').split('\n');
      const at = lines.findIndex((l) => new RegExp(`\\b${r.sym}\\b`).test(l));
      if (at >= 0) where += `:${at + 1}`;
    }
    bad.add(`${where}: ${r.layer.name} calls ${r.sym} (${def.layer.name}, ${def.src}): against the table; ${allowedText(table, r.layer)}${h ? ` (functions declared there)` : ''}`);
  }
  return [...bad].sort();
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const tablePath = join(opts.root, 'firmware', 'layers.txt');
  const table = parseTable(readFileSync(tablePath, 'utf8'));
  const bad = checkIncludes(opts.root, table);
  if (opts.objects) bad.push(...checkSymbols(opts.root, table, opts.objects));
  for (const b of bad) console.log(b);
  const what = opts.objects ? 'includes and calls' : 'includes';
  if (bad.length) {
    console.log(`layers: ${bad.length} ${what} against firmware/layers.txt`);
    process.exit(1);
  }
  console.log(`layers: every ${opts.objects ? 'include and call' : 'include'} follows firmware/layers.txt`);
}

try {
  main();
} catch (e) {
  console.error(`layers: ${e instanceof LayerTableError ? e.message : e.stack}`);
  process.exit(2);
}
