// The shape of a GPU op: what it needs planned, and for each chunk of sequences the programs it runs,
// what it reads back and how it takes the results. The backend runs every op through one chunk loop.
import type { Packed } from '../../call/pack.js';
import type { Potentials } from '../../model/parameters.js';
import { type ShaderName, WGSL } from '../../generated/shaders.js';
import type { GpuContext } from './context.js';
import type { Program, Readback } from './execute.js';

/** Lanes per sequence, tags per lane, sequences per workgroup (see shaders/chain.wgsl). */
export interface Layout {
  TPS: number;
  TILE: number;
  SEQ: number;
}

export function layoutFor(K: number): Layout {
  let tps = 1;
  while (tps < K && tps < WGSL.WG) tps *= 2;
  return { TPS: tps, TILE: Math.ceil(K / tps), SEQ: WGSL.WG / tps };
}

/** What the backend settled before the first chunk. */
export interface Plan {
  /** start | end | trans as float32, forbidden = NEG. */
  potentials: Float32Array;
  /** The call's potentials themselves (forbidden = −∞), for what an op computes on the CPU. */
  w: Potentials;
  layout: Layout;
  /** The layout as pipeline constants. */
  constants: { TPS: number; TILE: number };
  /** Sequences per chunk. */
  chunk: number;
}

/** One chunk's work: sequences [b0, b1). */
export interface ChunkWork {
  programs: Program[];
  readback: Readback;
  /** Buffers that go back to the pool once submitted. */
  owned: GPUBuffer[];
  /** Takes this chunk's results out of the data read back. */
  read(data: ArrayBuffer): void;
}

interface OpRun<R> {
  chunk(b0: number, b1: number): ChunkWork;
  result(): R;
  /** Gives back buffers shared by every chunk (none for most ops). */
  release(): void;
}

export interface GpuOp<R, A = void> {
  name: string;
  /** The chain kernel it runs: its workgroup memory decides whether K fits the device. */
  chain: ShaderName;
  /** The longest chain (packed T) it runs on the GPU (Infinity: any); longer calls run on the CPU backend. */
  maxT: number;
  /**
   * Floats each sequence adds to the largest of the op's buffers and to its readback (`onGpu`: the
   * call's emissions are on the GPU, which some ops read back), and floats the op needs once beyond the
   * potentials: the chunk size keeps both within the device's limits.
   */
  perSequence(T: number, K: number, onGpu: boolean): number;
  fixed(K: number): number;
  /** Starts the op over the call; `args` are the op's arguments beyond the call (OpSpec's A). */
  begin(ctx: GpuContext, p: Packed, plan: Plan, args: A): OpRun<R>;
}
