// `npm run demo`: serves the repository root (the page imports ../dist/index.js and tfjs from
// ../node_modules/, so both must be reachable beside demo/) and prints the page's address. PORT from the environment, else 8080.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from './serve.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const port = Number(process.env.PORT ?? 8080);
const { url } = await serve(root, port);
console.log(`webcrf demo: ${url}/demo/`);
console.log(`(quick benchmark sizes: ${url}/demo/?quick=1; Ctrl-C to stop)`);
