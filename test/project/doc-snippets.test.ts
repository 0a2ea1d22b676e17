// Every ```js and ```ts block of the README and docs/*.md runs, as a user's script would: written as an
// ES module under build/snippets/ (inside the package, so that 'webcrf' resolves to the built package
// through its own exports), TypeScript stripped by esbuild, each in its own child process and folder.
// A block fails the test when it throws or its process exits with an error.
//
// An HTML comment on the line before a block says how to run one that cannot run as it stands:
//   <!-- snippet: given crf, emissions, tags, mask (K 3, B 1, T 4) -->
//        the test defines these first (see GIVEN; K, B and T default to 5, 2 and 3): a fragment that
//        continues from data the reader has, or a file it reads (crf.json)
//   <!-- snippet: cjs -->            CommonJS (`require`), written as a .cjs file
//   <!-- snippet: skip: <why> -->    not run; the reason must say what runs it instead
// Every folder also holds tagger.onnx (examples/tiny-tagger.onnx), and node_modules/ of build/snippets
// a stand-in for @huggingface/transformers (test/stubs/transformers/, which says why).
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { transform } from 'esbuild';
import { expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const out = join(root, 'build/snippets');
const run = promisify(execFile);
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';

interface Snippet {
  file: string;
  line: number;
  lang: 'js' | 'ts';
  code: string;
  directive: string;
}

function snippets(file: string): Snippet[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const found: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    if (open[1] === 'js' || open[1] === 'ts') {
      let prev = i - 1;
      while (prev >= 0 && lines[prev].trim() === '') prev--;
      const directive = prev >= 0 ? (/^<!-- snippet: (.+) -->$/.exec(lines[prev].trim())?.[1] ?? '') : '';
      found.push({ file, line: i + 1, lang: open[1], code: lines.slice(i + 1, end).join('\n'), directive });
    }
    i = end;
  }
  return found;
}

const files = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const all = files.flatMap(snippets);

/** What `given` defines, for K tags and a batch of B sequences of T steps (the last one a step shorter). */
const GIVEN: Record<string, (K: number, B: number, T: number) => string> = {
  CRF: () => `import { CRF } from 'webcrf';`,
  crf: (K) => `const crf = await __webcrf.CRF.create(${K}, { seed: 0 });`,
  emissions: (K, B, T) =>
    `const emissions = Array.from({ length: ${B} }, (_, b) => Array.from({ length: ${T} }, (_, t) => Array.from({ length: ${K} }, (_, k) => Math.sin(1 + b * 7 + t * 3 + k))));`,
  tags: (K, B, T) =>
    `const tags = Array.from({ length: ${B} }, (_, b) => Array.from({ length: ${T} }, (_, t) => (b === ${B - 1} && t === ${T - 1} && ${B} > 1 ? -100 : (b + t) % ${K})));`,
  mask: (_K, B, T) =>
    `const mask = Array.from({ length: ${B} }, (_, b) => Array.from({ length: ${T} }, (_, t) => !(b === ${B - 1} && t === ${T - 1} && ${B} > 1)));`,
  fetch: (K) =>
    `const fetch = async (url) => { if (url !== '/model.safetensors') throw new Error('no ' + url); const c = await __webcrf.CRF.create(${K}, { seed: 1 }); const bytes = c.toSafetensors({ prefix: 'crf.' }); return { arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) }; };`,
  'crf.json': (K) =>
    `{ const c = await __webcrf.CRF.create(${K}, { seed: 2 }); (await import('node:fs')).writeFileSync('crf.json', JSON.stringify(c.stateDict())); }`,
};

/** The Quick start blocks also print what they computed: their decode and sample give paths as long as the mask. */
const QUICK_START = 'const drawn = await crf.sample(emissions, { mask, numSamples: 4, seed: 1 });';

async function source(s: Snippet): Promise<{ name: string; code: string }> {
  const given = /^given (.+?)(?: \((.+)\))?$/.exec(s.directive);
  let prelude = '';
  if (given) {
    const dims = Object.fromEntries(
      (given[2] ?? '')
        .split(',')
        .filter(Boolean)
        .map((kv) => kv.trim().split(' ')),
    );
    const [K, B, T] = [Number(dims.K ?? 5), Number(dims.B ?? 2), Number(dims.T ?? 3)];
    prelude = `import * as __webcrf from 'webcrf';\n`;
    for (const name of given[1].split(',').map((n) => n.trim())) {
      if (!GIVEN[name]) throw new Error(`${s.file}:${s.line}: unknown given ${name}`);
      prelude += `${GIVEN[name](K, B, T)}\n`;
    }
  }
  let code = s.code;
  if (code.includes(QUICK_START)) code += '\nconsole.log(JSON.stringify({ best, top3, drawn }));';
  if (s.lang === 'ts') code = (await transform(code, { loader: 'ts', format: 'esm' })).code;
  const cjs = s.directive === 'cjs';
  return { name: cjs ? 'snippet.cjs' : 'snippet.mjs', code: cjs ? code : `${prelude}${code}` };
}

const runnable = all.filter((s) => !s.directive.startsWith('skip:'));

it('every js/ts block in the README and docs has a known directive, and skips say why', () => {
  expect(all.length).toBeGreaterThan(20);
  for (const s of all) expect(s.directive, `${s.file}:${s.line}`).toMatch(/^$|^cjs$|^given [\w., ]+( \(.+\))?$|^skip: .{20,}/);
  expect(all.filter((s) => s.directive.startsWith('skip:')).length).toBeLessThanOrEqual(3);
});

it('every runnable block runs to the end without throwing', async () => {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'node_modules/@huggingface'), { recursive: true });
  cpSync(join(root, 'test/stubs/transformers'), join(out, 'node_modules/@huggingface/transformers'), { recursive: true });
  const jobs = await Promise.all(
    runnable.map(async (s) => {
      const dir = join(out, `${s.file.replace(/\W/g, '-')}-${s.line}`);
      mkdirSync(dir, { recursive: true });
      copyFileSync(join(root, 'examples/tiny-tagger.onnx'), join(dir, 'tagger.onnx'));
      const { name, code } = await source(s);
      writeFileSync(join(dir, name), code);
      // An ES module exits once its top-level await is done: a GPU device it left open must not hold
      // the test. A CommonJS block runs to its natural end (its promises are not awaited by anything).
      writeFileSync(join(dir, 'run.mjs'), `await import('./${name}');\nsetTimeout(() => process.exit(), 50);\n`);
      return { s, dir, main: name.endsWith('.cjs') ? name : 'run.mjs' };
    }),
  );
  // docs/webgpu.md's Node block asks the webgpu package for an adapter: SwiftShader where there is no GPU.
  const env = { ...process.env };
  if (!env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) env.VK_ICD_FILENAMES = SWIFTSHADER;
  const failures: string[] = [];
  const outputs = new Map<Snippet, string>();
  // A few at a time: each is a Node process with the package's kernels (and some a GPU device).
  const queue = [...jobs];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) {
        try {
          const r = await run(process.execPath, [job.main], { cwd: job.dir, timeout: 60_000, env });
          outputs.set(job.s, r.stdout);
        } catch (e) {
          const err = e as { stderr?: string; message: string };
          failures.push(`${job.s.file}:${job.s.line}: ${(err.stderr || err.message).slice(0, 1500)}`);
        }
      }
    }),
  );
  expect(failures).toEqual([]);
  const quick = runnable.filter((s) => s.code.includes(QUICK_START));
  expect(quick.map((s) => s.file)).toEqual(['README.md', 'docs/index.md']);
  for (const s of quick) {
    const { best, top3, drawn } = JSON.parse(outputs.get(s)!.trim().split('\n').pop()!) as { best: number[][]; top3: unknown[][]; drawn: number[][][] };
    expect(best.map((p) => p.length)).toEqual([3, 2]);
    expect(top3.map((l) => l.length)).toEqual([3, 3]);
    expect(drawn.map((d) => d.map((p) => p.length))).toEqual([
      [3, 3, 3, 3],
      [2, 2, 2, 2],
    ]);
  }
}, 240_000);
