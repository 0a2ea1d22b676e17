// semiring-entropy.wgsl: torch-struct's entropy semiring over (x, H), prepended to chain.wgsl: the
// running scores carry a second row, the entropy H of the paths ending in each tag. For one column
// with terms v_i, max m and r = sum_{i != first argmax} exp(v_i - m):
//   x' = m + log1p(r),   H' = sum_i exp(v_i - m) (H_i + m - v_i) / (1 + r) + log1p(r),
// i.e. sum_i p_i (H_i - log p_i) with every term >= 0: nothing cancels on confident sequences, where
// log Z - E[score] would. Acc is (m, r, h = sum_i exp(v_i - m)(H_i + m - v_i)), built one term at a time.
// The interface is semiring-logsum.wgsl's.
//
// H grows by up to ln K a step: in float32 its rounding grew with it (1e-4 of H at T = 1e4). So the
// running H are relative: each step takes the previous row's H at its first best tag out of every H
// it reads, and hshift keeps what it took, for the host to add in float64 (as it adds the shifts of the
// scores). Where every tag's paths mix, the relative values stay within a few nats; where sets of tags
// never exchange paths, they grow apart (the backend bounds the chains it runs here for that).
//
// Bindings it adds (group 0):
//   6 entropy     storage, read_write   f32 [B]     H(y | x) per sequence less the shifts in hshift
//                                                   (scores gets log Z)
//   7 hshift      storage, read_write   f32 [B, T]  what each visited row took out of H

@group(0) @binding(6) var<storage, read_write> entropy: array<f32>;
@group(0) @binding(7) var<storage, read_write> hshift: array<f32>;

var<workgroup> runH: array<f32, MEM>;

struct Acc {
  m: f32,
  r: f32,
  h: f32,
}

fn accZero() -> Acc {
  return Acc(NEG, 0.0, 0.0);
}

fn accAdd(a: ptr<function, Acc>, v: f32, i: u32, hv: f32) {
  let m = (*a).m;
  if (m <= THRESH) {
    *a = Acc(v, 0.0, hv);
  } else if (v > m) {
    // The old max becomes an ordinary term; every old term moves v - m further from the max.
    let f = exp(m - v);
    *a = Acc(v, f * (1.0 + (*a).r), f * ((*a).h + (v - m) * (1.0 + (*a).r)) + hv);
  } else {
    let e = exp(v - m);
    (*a).r = (*a).r + e;
    (*a).h = (*a).h + e * (hv + (m - v));
  }
}

fn accMerge(a: Acc, b: Acc) -> Acc {
  if (b.m <= THRESH) {
    return a;
  }
  if (a.m <= THRESH) {
    return b;
  }
  var hi = a;
  var lo = b;
  if (b.m > a.m) {
    hi = b;
    lo = a;
  }
  let f = exp(lo.m - hi.m);
  return Acc(hi.m, hi.r + f * (1.0 + lo.r), hi.h + f * (lo.h + (hi.m - lo.m) * (1.0 + lo.r)));
}

// log(1 + x) for x >= 0 without losing small x: WGSL has no log1p, and log(1 + 1e-6) keeps no digits.
fn log1pos(x: f32) -> f32 {
  if (x < 0.05) {
    return x * (1.0 - x * (0.5 - x * (1.0 / 3.0 - x * (0.25 - x * (0.2 - x * (1.0 / 6.0 - x / 7.0))))));
  }
  return log(1.0 + x);
}

fn accValue(a: Acc) -> f32 {
  return select(a.m + log1pos(a.r), NEG, a.m <= THRESH);
}

fn accExtra(a: Acc) -> f32 {
  return select(a.h / (1.0 + a.r) + log1pos(a.r), 0.0, a.m <= THRESH);
}

fn extraLoad(o: u32) -> f32 {
  return runH[o];
}

fn extraStore(o: u32, h: f32) {
  runH[o] = h;
}

fn extraRef(prev: u32, K: u32, c: f32) -> f32 {
  for (var i = 0u; i < K; i++) {
    if (run[prev + i] == c) {
      return runH[prev + i];
    }
  }
  return 0.0;
}

fn extraNorm(b: u32, row: u32, h: f32) {
  hshift[b * dims.T + row] = h;
}

fn recordArg(o: u32, a: Acc) {}

fn finish(ok: bool, b: u32, len: u32, root: Acc) {
  if (ok) {
    let v = accValue(root);
    scores[b] = select(select(NEG, v, v > THRESH), 0.0, len == 0u);
    entropy[b] = select(accExtra(root), 0.0, len == 0u);
  }
}
