/// <reference types="node" />
// Entry of a worker thread under Node's worker_threads (node-spawn.ts starts it): the same work as
// web-worker.ts, over the parent port.
import { parentPort } from 'node:worker_threads';
import type { ToWorker } from './protocol.js';
import { serve } from './worker.js';

const port = parentPort!;
const handle = serve((m, transfer) => port.postMessage(m, transfer));
port.on('message', (m: ToWorker) => handle(m));
