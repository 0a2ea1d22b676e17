// docs/gpu-inputs.md's Node snippet runs as written (importing the built package by its name) and
// prints what its comment says; its browser-only snippet runs in test/backends/webgpu/ort-browser.test.ts.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { nodeGpuDevice } from '../../scripts/node-backends.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);
const gpu = await nodeGpuDevice();

it.skipIf(!gpu.device)(
  'the { buffer, shape } snippet of docs/gpu-inputs.md decodes what the same values on the CPU decode',
  async () => {
    const text = readFileSync(join(root, 'docs/gpu-inputs.md'), 'utf8');
    const block = /```js\n(import \{ create, globals \} from 'webgpu';[\s\S]*?)```/.exec(text);
    expect(block, 'the Node block').not.toBeNull();
    // Inside the package, 'webcrf' resolves to the package itself (its own exports).
    const dir = join(root, 'test/artifacts');
    mkdirSync(dir, { recursive: true });
    const script = join(dir, 'gpu-inputs-node.mjs');
    writeFileSync(script, block![1]);
    const { stdout } = await run(process.execPath, [script], {
      cwd: root,
      timeout: 60_000,
      env: { ...process.env, VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES },
    });
    expect(stdout.trim()).toBe('true');
  },
  90_000,
);
