// semiring-maxplus.wgsl: the max-plus semiring (max, +) of Viterbi, prepended to chain.wgsl. Acc keeps the
// best term and its tag; ties go to the lowest tag (terms arrive in ascending i, and a merge prefers
// the lower index), as the js reference and pytorch-crf do. The interface is semiring-logsum.wgsl's.
//
// Bindings it adds (group 0):
//   6 back        storage, read_write   u32 [B, T, K]  backpointers
//   7 paths       storage, read_write   u32 [B, T]     best path, backtraced on the GPU

@group(0) @binding(6) var<storage, read_write> back: array<u32>;
@group(0) @binding(7) var<storage, read_write> paths: array<u32>;

struct Acc {
  m: f32,
  arg: u32,
}

fn accZero() -> Acc {
  return Acc(NEG, 0u);
}

fn accAdd(a: ptr<function, Acc>, v: f32, i: u32, h: f32) {
  if (v > (*a).m) {
    (*a).m = v;
    (*a).arg = i;
  }
}

fn accMerge(a: Acc, b: Acc) -> Acc {
  if (b.m > a.m || (b.m == a.m && b.m > THRESH && b.arg < a.arg)) {
    return b;
  }
  return a;
}

fn accValue(a: Acc) -> f32 {
  return select(a.m, NEG, a.m <= THRESH);
}

fn recordArg(o: u32, a: Acc) {
  back[o] = a.arg;
}

fn finish(ok: bool, b: u32, len: u32, root: Acc) {
  if (ok) {
    let v = accValue(root);
    scores[b] = select(select(NEG, v, v > THRESH), 0.0, len == 0u);
  }
  // The backtrace reads backpointers other invocations of this workgroup wrote.
  storageBarrier();
  if (ok && len > 0u) {
    let T = dims.T;
    let K = dims.K;
    var y = root.arg;
    for (var r = len; r > 0u; r--) {
      paths[b * T + r - 1u] = y;
      if (r > 1u) {
        y = back[(b * T + r - 1u) * K + y];
      }
    }
  }
}
