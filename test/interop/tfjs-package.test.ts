// The package's webcrf/tfjs entry as an application imports it (dist/, by the package's name): it runs
// with the core the application gets, and the core's own files hold nothing of tfjs.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { nodeGpuDevice } from '../../scripts/node-backends.js';

const dist = fileURLToPath(new URL('../../dist/', import.meta.url));

describe('the webcrf/tfjs entry', () => {
  it('leaves tfjs out of every core file: only dist/tfjs.js imports it', () => {
    const js = readdirSync(dist).filter((f) => f.endsWith('.js'));
    expect(js).toContain('tfjs.js');
    for (const f of js) expect(/@tensorflow/.test(readFileSync(`${dist}${f}`, 'utf8')), f).toBe(f === 'tfjs.js');
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8'));
    expect(pkg.exports['./tfjs']).toEqual({ types: './dist/types/tfjs/index.d.ts', default: './dist/tfjs.js' });
    expect(pkg.dependencies ?? {}).toEqual({});
  });

  it('imports the core by the package name, so its errors are the application’s CRFInputError', async () => {
    const tf = await import('@tensorflow/tfjs');
    const { CRF } = await import('webcrf/tfjs' as string);
    const { CRFInputError, CRF: Core } = await import('webcrf' as string);
    const crf = await CRF.create(3, { seed: 1 });
    const core = await Core.create(3, { seed: 1 });
    const data = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i));
    const em = tf.tensor3d(data, [2, 4, 3]);
    expect(await crf.decode(em)).toEqual(await core.decode({ data, shape: [2, 4, 3] }));
    expect(() => crf.forward(tf.cast(em, 'int32'), [[0]])).toThrow(CRFInputError);
    em.dispose();
    crf.dispose();
  });

  it('on tfjs’s webgpu backend, loads its GPU route from dist/tfjs-internals.js, whose errors are the application’s CRFInputError too', async (ctx) => {
    const gpu = await nodeGpuDevice();
    if (!gpu.device) return ctx.skip();
    // The backend looks for navigator.gpu when its module is evaluated (Node 20 has no navigator).
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: gpu.instance }, configurable: true, writable: true });
    const tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-webgpu');
    const { CRF } = await import('webcrf/tfjs' as string);
    const { CRFInputError, CRF: Core } = await import('webcrf' as string);
    const was = tf.getBackend();
    expect(await tf.setBackend('webgpu')).toBe(true);
    try {
      const crf = await CRF.create(3, { seed: 1 });
      const core = await Core.create(3, { seed: 1 });
      const data = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i));
      const tags = [
        [0, 1, 2, 1],
        [2, 2, 0, 1],
      ];
      // Made by an op on the GPU: Node's webgpu backend cannot read it back, so only the GPU route can take it.
      tf.env().set('WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD', 0);
      const em = tf.tidy(() => tf.mul(tf.tensor3d(data, [2, 4, 3]), 1));
      const got = tf.tidy(() => crf.forward(em, tags));
      expect((await got.data())[0]).toBeCloseTo(await core.forward({ data, shape: [2, 4, 3] }, tags), 4);
      expect(() => crf.forward(em, [[0, 1, 2, 3], tags[1]])).toThrow(CRFInputError);
      tf.dispose([em, got]);
      crf.dispose();
    } finally {
      await tf.setBackend(was);
    }
  });
});
