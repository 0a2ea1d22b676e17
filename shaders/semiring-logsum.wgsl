// semiring-logsum.wgsl: the log semiring (logsumexp, +), prepended to chain.wgsl for log Z and
// forward-backward. Acc is one column's running (max, sum exp(x - max)), one exp per term.
//
// The interface every semiring-*.wgsl gives chain.wgsl:
//   Acc, accZero()              a column's running sum, empty
//   accAdd(&acc, v, i, h)       adds term v (> THRESH) from tag i, whose extra state (entropy) is h
//   accMerge(a, b)              two partial sums of one column into one (cross-lane reduction)
//   accValue(acc)               the sum (NEG when empty);  accExtra(acc): the extra state it carries
//   extraLoad(o), extraStore(o, h)   the extra state of the running scores (extra-none.wgsl: none)
//   extraRef(prev, K, c)        what a step takes out of every extra state of the previous row (whose
//                               largest score is c), passed to accAdd less it; 0 here
//   extraNorm(b, row, h)        keeps that amount for the host (nothing here)
//   recordArg(o, acc)           what Viterbi stores per step (nothing here)
//   finish(ok, b, len, root)    writes sequence b's results, relative to its shifts (all invocations call it)

struct Acc {
  m: f32,
  s: f32,
}

fn accZero() -> Acc {
  return Acc(NEG, 0.0);
}

fn accAdd(a: ptr<function, Acc>, v: f32, i: u32, h: f32) {
  let r = lseAdd(vec2<f32>((*a).m, (*a).s), v);
  *a = Acc(r.x, r.y);
}

fn accMerge(a: Acc, b: Acc) -> Acc {
  let r = lseMerge(a.m, a.s, b.m, b.s);
  return Acc(r.x, r.y);
}

fn accValue(a: Acc) -> f32 {
  return select(a.m + log(a.s), NEG, a.m <= THRESH);
}

fn recordArg(o: u32, a: Acc) {}

fn finish(ok: bool, b: u32, len: u32, root: Acc) {
  if (ok) {
    let v = accValue(root);
    scores[b] = select(select(NEG, v, v > THRESH), 0.0, len == 0u);
  }
}
