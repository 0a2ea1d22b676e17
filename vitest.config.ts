import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests import src/, whose kernels' relative URL points into src/: read the built ones from dist/.
    setupFiles: ['test/wasm-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
