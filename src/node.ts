/// <reference types="node" />
// Entry for the `node` export condition (Node, Deno and Bun resolve it): the kernels are read from the
// .wasm files beside this module instead of fetched, since Node's fetch has no file: URLs.
import { readFile } from 'node:fs/promises';
import { setWasmSource, wasmUrl } from './backends/wasm-source.js';

setWasmSource(async (kind) => WebAssembly.compile(await readFile(wasmUrl(kind))));

export * from './index.js';
