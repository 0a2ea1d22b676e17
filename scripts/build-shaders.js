// Generates src/generated/shaders.ts (git-ignored, rebuilt by every build) from shaders/*.wgsl. Each
// kernel variant is a composition of files: common.wgsl, then for the chain kernels the semiring's file
// and the store file, then the kernel. A new semiring is one shaders/semiring-<name>.wgsl and one line
// in VARIANTS. WGSL needs no preprocessor for this: the parts supply the functions the kernel calls.
//
// From the composed source the build also reads what the TypeScript side must agree with, so that it is
// declared once, in WGSL: every `@group(0) @binding(n) var ... name` (a program binds its buffers by
// name), the constants of common.wgsl (NEG, THRESH, WG), and each kernel's workgroup memory (what the
// backend checks against the device's limit before choosing a layout).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** @param {string} name */
const read = (name) => readFileSync(join(root, 'shaders', name), 'utf8');

/** Each variant: the files that make it, in order (common.wgsl comes first in all). */
/** @type {Record<string, string[]>} */
const VARIANTS = {
  'chain.logPartition': ['semiring-logsum.wgsl', 'extra-none.wgsl', 'store-none.wgsl', 'chain.wgsl'],
  'chain.posteriors': ['semiring-logsum.wgsl', 'extra-none.wgsl', 'store-steps.wgsl', 'chain.wgsl'],
  'chain.viterbi': ['semiring-maxplus.wgsl', 'extra-none.wgsl', 'store-none.wgsl', 'chain.wgsl'],
  'chain.entropy': ['semiring-entropy.wgsl', 'store-none.wgsl', 'chain.wgsl'],
  unary: ['unary.wgsl'],
  pairs: ['pairs.wgsl'],
  reduce: ['reduce.wgsl'],
  gather: ['gather.wgsl'],
  summary: ['summary.wgsl'],
  weighted: ['weighted.wgsl'],
};

/**
 * @param {string} variant
 * @param {string} msg
 * @returns {never}
 */
function fail(variant, msg) {
  throw new Error(`scripts/build-shaders.js: ${variant}: ${msg}`);
}

/**
 * The bindings of group 0 in binding order, each with its address space; they must be 0..n-1.
 * @param {string} variant
 * @param {string} code
 */
function bindings(variant, code) {
  /** @type {{ name: string, space: string }[]} */
  const found = [];
  for (const m of code.matchAll(/@group\((\d+)\)\s*@binding\((\d+)\)\s*var(?:<([^>]+)>)?\s+(\w+)/g)) {
    const [, group, binding, space, name] = m;
    if (group !== '0') fail(variant, `${name} is in group ${group}; every kernel uses group 0 only`);
    if (found[Number(binding)]) fail(variant, `binding ${binding} is declared twice (${found[Number(binding)].name}, ${name})`);
    found[Number(binding)] = { name, space: space ?? 'handle' };
  }
  for (let i = 0; i < found.length; i++) if (!found[i]) fail(variant, `binding ${i} is missing (bindings must be 0..${found.length - 1})`);
  if (new Set(found.map((b) => b.name)).size !== found.length) fail(variant, 'two bindings share a name');
  return found;
}

/**
 * Workgroup memory as bytes = perTile * TILE + fixed: arrays of MEM elements (MEM = 2 * WG * TILE, the
 * double-buffered running scores) and of WG elements, of f32, u32 or the semiring's Acc (4 bytes per
 * field: every field is 32-bit).
 * @param {string} variant
 * @param {string} code
 * @param {number} wg
 */
function workgroupMemory(variant, code, wg) {
  const acc = /struct Acc\s*\{([^}]*)\}/.exec(code);
  /** @param {string} type */
  const size = (type) => {
    if (type === 'f32' || type === 'u32') return 4;
    if (type === 'Acc' && acc) return 4 * acc[1].split(',').filter((f) => f.trim()).length;
    return fail(variant, `workgroup array of ${type}: add its size to scripts/build-shaders.js`);
  };
  let perTile = 0,
    fixed = 0;
  for (const m of code.matchAll(/var<workgroup>\s+(\w+)\s*:\s*array<(\w+),\s*(\w+)>/g)) {
    const [, name, type, len] = m;
    if (len === 'MEM') perTile += 2 * wg * size(type);
    else if (len === 'WG') fixed += wg * size(type);
    else fail(variant, `workgroup array ${name} of length ${len}: only MEM and WG are understood`);
  }
  if (/var<workgroup>\s+\w+\s*:\s*(?!\s|array<)/.test(code)) fail(variant, 'a workgroup variable that is not an array');
  return { perTile, fixed };
}

/**
 * `const NAME: f32|u32 = value;` of common.wgsl, as numbers.
 * @param {string} common
 */
function constants(common) {
  /** @type {Record<string, number>} */
  const out = {};
  for (const m of common.matchAll(/^const (\w+): (f32|u32) = ([-+0-9.e]+)u?;/gm)) out[m[1]] = Number(m[3]);
  for (const k of ['NEG', 'THRESH', 'WG']) if (!(k in out)) fail('common.wgsl', `no const ${k}`);
  return out;
}

const common = read('common.wgsl');
const consts = constants(common);
// Blank-line runs between parts are squeezed; the text is otherwise the files'.
/** @param {string} s */
const squeeze = (s) => s.replace(/\n[ \t]*\n([ \t]*\n)+/g, '\n\n');
const built = Object.entries(VARIANTS).map(([variant, parts]) => {
  const code = squeeze([common, ...parts.map(read)].join('\n'));
  if (/#if|#endif|\$\{/.test(code)) fail(variant, 'templates are plain WGSL: no directives or ${} holes');
  const binds = bindings(variant, code);
  const header =
    `// webcrf ${variant}: ${['common.wgsl', ...parts].join(' + ')} (scripts/build-shaders.js)\n` +
    `// Bindings (group 0): ${binds.map((b, i) => `${i} ${b.name} (${b.space})`).join(', ')}\n\n`;
  return { variant, code: header + code, binds, memory: workgroupMemory(variant, code, consts.WG) };
});

let out = '// Generated by scripts/build-shaders.js from shaders/*.wgsl; do not edit. Rebuild: npm run build:shaders\n\n';
out +=
  '/** Constants of shaders/common.wgsl: forbidden scores (NEG), the threshold below which a score is forbidden (THRESH), invocations per workgroup (WG). */\n';
out += `export const WGSL = ${JSON.stringify(consts)} as const;\n\n`;
out += `export type ShaderName = ${built.map((b) => `'${b.variant}'`).join(' | ')};\n\n`;
out += "/** Each shader's bindings by name (group 0): a program supplies exactly these buffers. */\n";
out += 'export interface ShaderBindings {\n';
for (const b of built) out += `  '${b.variant}': ${b.binds.map((x) => `'${x.name}'`).join(' | ')};\n`;
out += '}\n\n';
out +=
  'export interface Shader<S extends ShaderName> {\n  code: string;\n  /** Binding n is bindings[n]. */\n  bindings: readonly ShaderBindings[S][];\n' +
  '  /** Workgroup memory in bytes: perTile * TILE + fixed. */\n  memory: { perTile: number; fixed: number };\n}\n\n';
out += 'export const SHADERS: { [S in ShaderName]: Shader<S> } = {\n';
for (const b of built) {
  out +=
    `  '${b.variant}': {\n    bindings: ${JSON.stringify(b.binds.map((x) => x.name))},\n` +
    `    memory: ${JSON.stringify(b.memory).replace(/"/g, '')},\n    code: ${JSON.stringify(b.code)},\n  },\n`;
}
out += '};\n';
const target = join(root, 'src', 'generated', 'shaders.ts');
let old = '';
try {
  old = readFileSync(target, 'utf8');
} catch {
  /* first build */
}
if (old !== out) {
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, out);
}
