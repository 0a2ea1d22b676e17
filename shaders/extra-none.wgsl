// extra-none.wgsl: prepended after a semiring that carries no second value per tag (logsum, maxplus):
// the extra-state part of the semiring interface (semiring-logsum.wgsl's header), all of it nothing.
// The entropy semiring supplies its own.

fn accExtra(a: Acc) -> f32 {
  return 0.0;
}

fn extraLoad(o: u32) -> f32 {
  return 0.0;
}

fn extraStore(o: u32, h: f32) {}

fn extraRef(prev: u32, K: u32, c: f32) -> f32 {
  return 0.0;
}

fn extraNorm(b: u32, row: u32, h: f32) {}
