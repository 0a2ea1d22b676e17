// Lane-generic arithmetic. Every kernel is written once over a lane type L: `v128` (four f32 lanes) in
// the SIMD build and `f32` in the scalar build (engines without SIMD). The `isVector<L>()` branches are
// resolved at compile time, so each build contains only its own instructions.

/** Floats per lane value. */
@inline export function W<L>(): i32 {
  return isVector<L>() ? 4 : 1;
}

@inline export function splat<L>(x: f32): L {
  if (isVector<L>()) return f32x4.splat(x);
  else return x as L;
}

@inline export function ld<L>(p: usize): L {
  if (isVector<L>()) return v128.load(p);
  else return load<f32>(p) as L;
}

@inline export function st<L>(p: usize, v: L): void {
  if (isVector<L>()) v128.store(p, v);
  else store<f32>(p, v);
}

@inline export function add<L>(a: L, b: L): L {
  if (isVector<L>()) return f32x4.add(a, b);
  else return (a + b) as L;
}

@inline export function sub<L>(a: L, b: L): L {
  if (isVector<L>()) return f32x4.sub(a, b);
  else return (a - b) as L;
}

@inline export function mul<L>(a: L, b: L): L {
  if (isVector<L>()) return f32x4.mul(a, b);
  else return (a * b) as L;
}

/** `a < b ? b : a`: one instruction on x86 (maxps), unlike IEEE max; no NaN ever reaches it. */
@inline export function pmax<L>(a: L, b: L): L {
  if (isVector<L>()) return f32x4.pmax(a, b);
  else return (a < b ? b : a) as L;
}

@inline export function pmin<L>(a: L, b: L): L {
  if (isVector<L>()) return f32x4.pmin(a, b);
  else return (b < a ? b : a) as L;
}

/** Lanes whose i32 mask (at `m`) is all ones keep `a`, the others get `b`. */
@inline export function keep<L>(a: L, b: L, m: usize): L {
  if (isVector<L>()) return v128.bitselect(a, b, v128.load(m));
  else return select<f32>(a as f32, b as f32, load<i32>(m) != 0) as L;
}

/** Lanes where x < lim get `v`. */
@inline export function whereLt<L>(x: L, lim: f32, v: f32, r: L): L {
  if (isVector<L>()) return v128.bitselect(f32x4.splat(v), r, f32x4.lt(x, f32x4.splat(lim)));
  else return select<f32>(v, r as f32, (x as f32) < lim) as L;
}

/** Lanes where x > lim get `v`. */
@inline export function whereGt<L>(x: L, lim: f32, v: f32, r: L): L {
  if (isVector<L>()) return v128.bitselect(f32x4.splat(v), r, f32x4.gt(x, f32x4.splat(lim)));
  else return select<f32>(v, r as f32, (x as f32) > lim) as L;
}

/** v where x < y, else 0. */
@inline export function whereLtV<L>(x: L, y: L, v: L): L {
  if (isVector<L>()) return v128.and(v, f32x4.lt(x, y));
  else return select<f32>(v as f32, 0, (x as f32) < (y as f32)) as L;
}

/** 1 where x == y, else 0. */
@inline export function eqOnes<L>(x: L, y: L): L {
  if (isVector<L>()) return v128.and(f32x4.splat(1), f32x4.eq(x, y));
  else return select<f32>(1, 0, (x as f32) == (y as f32)) as L;
}

/** v where e > 0, else 0 (also where v is NaN). */
@inline export function positive<L>(e: L, v: L): L {
  if (isVector<L>()) return v128.and(v, f32x4.gt(e, f32x4.splat(0)));
  else return select<f32>(v as f32, 0, (e as f32) > 0) as L;
}

/** Lanes equal to v become r. */
@inline export function replaceEq<L>(x: L, v: f32, r: f32): L {
  if (isVector<L>()) return v128.bitselect(f32x4.splat(r), x, f32x4.eq(x, f32x4.splat(v)));
  else return select<f32>(r, x as f32, (x as f32) == v) as L;
}

/** How many lanes are ≥ t. */
@inline export function countGE<L>(x: L, t: f32): i32 {
  if (isVector<L>()) return <i32>popcnt<i32>(i32x4.bitmask(f32x4.ge(x, f32x4.splat(t))));
  else return i32((x as f32) >= t);
}

@inline export function hmax<L>(x: L): f32 {
  if (isVector<L>()) {
    const a = f32x4.pmax(x, v128.shuffle<f32>(x, x, 2, 3, 0, 1));
    const b = f32x4.pmax(a, v128.shuffle<f32>(a, a, 1, 0, 3, 2));
    return f32x4.extract_lane(b, 0);
  } else return x as f32;
}

@inline function nearest_<L>(x: L): L {
  if (isVector<L>()) return f32x4.nearest(x);
  else return nearest<f32>(x as f32) as L;
}

/** Multiplies by 2^n (n integral, as floats) through the exponent bits: the result must be normal. */
@inline function ldexp_<L>(p: L, n: L): L {
  if (isVector<L>()) return i32x4.add(p, i32x4.shl(i32x4.trunc_sat_f32x4_s(n), 23));
  else return reinterpret<f32>(reinterpret<i32>(p as f32) + (<i32>(n as f32) << 23)) as L;
}

// Cephes expf: n = round(x·log2 e), r = x − n·ln 2 (two-part ln 2), e^r by a degree-7 polynomial on
// |r| ≤ ln2/2, then scaled by 2^n. test/backends/wasm/math.test.ts holds its relative error against Math.exp to
// 1.2e-7 over [-87, 88.7] (docs/performance.md, Kernel notes, has the measured error). Below -87 the
// result is 0 (true value < 1.7e-38: everything the kernels do treats such values as zero and checks
// for it), so exp(-Infinity) is exactly 0, never NaN.
@inline export function vexp<L>(x: L): L {
  const xc = pmin<L>(pmax<L>(x, splat<L>(-87.0)), splat<L>(88.7));
  const n = nearest_<L>(mul<L>(xc, splat<L>(1.4426950408889634)));
  const r = sub<L>(sub<L>(xc, mul<L>(n, splat<L>(0.693359375))), mul<L>(n, splat<L>(-2.12194440e-4)));
  let y = splat<L>(1.9875691500e-4);
  y = add<L>(mul<L>(y, r), splat<L>(1.3981999507e-3));
  y = add<L>(mul<L>(y, r), splat<L>(8.3334519073e-3));
  y = add<L>(mul<L>(y, r), splat<L>(4.1665795894e-2));
  y = add<L>(mul<L>(y, r), splat<L>(1.6666665459e-1));
  y = add<L>(mul<L>(y, r), splat<L>(5.0000001201e-1));
  y = add<L>(add<L>(mul<L>(y, mul<L>(r, r)), r), splat<L>(1.0));
  const e = ldexp_<L>(y, n);
  return whereGt<L>(x, 88.72283, Infinity, whereLt<L>(x, -87.0, 0.0, e));
}

// Cephes logf: x = m·2^e with m in [√½, √2), log m by a degree-9 polynomial in m − 1, plus e·ln 2 in two
// parts. test/backends/wasm/math.test.ts holds its error against Math.log to 1.2e-7·max(1, |log x|) over the
// normal floats. log 0 = -Infinity, log ∞ = ∞; the kernels never pass negatives or subnormals.
@inline export function vlog<L>(x: L): L {
  let m: L, e: L;
  if (isVector<L>()) {
    const bits = x as v128;
    const ei = i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(126));
    const mm = v128.or(v128.and(bits, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000));
    const small = f32x4.lt(mm, f32x4.splat(0.7071067811865476));
    e = f32x4.convert_i32x4_s(i32x4.add(ei, small)); // small lanes are -1 (all ones)
    m = f32x4.sub(f32x4.add(mm, v128.and(mm, small)), f32x4.splat(1.0));
  } else {
    const bits = reinterpret<i32>(x as f32);
    let ei = (bits >>> 23) - 126;
    let mm = reinterpret<f32>((bits & 0x007fffff) | 0x3f000000);
    if (mm < <f32>0.7071067811865476) { ei -= 1; mm = mm + mm; }
    e = <f32>ei as L;
    m = (mm - <f32>1.0) as L;
  }
  const z = mul<L>(m, m);
  let y = splat<L>(7.0376836292e-2);
  y = add<L>(mul<L>(y, m), splat<L>(-1.1514610310e-1));
  y = add<L>(mul<L>(y, m), splat<L>(1.1676998740e-1));
  y = add<L>(mul<L>(y, m), splat<L>(-1.2420140846e-1));
  y = add<L>(mul<L>(y, m), splat<L>(1.4249322787e-1));
  y = add<L>(mul<L>(y, m), splat<L>(-1.6668057665e-1));
  y = add<L>(mul<L>(y, m), splat<L>(2.0000714765e-1));
  y = add<L>(mul<L>(y, m), splat<L>(-2.4999993993e-1));
  y = add<L>(mul<L>(y, m), splat<L>(3.3333331174e-1));
  y = mul<L>(mul<L>(y, m), z);
  y = add<L>(y, mul<L>(e, splat<L>(-2.12194440e-4)));
  y = sub<L>(y, mul<L>(z, splat<L>(0.5)));
  const r = add<L>(add<L>(m, y), mul<L>(e, splat<L>(0.693359375)));
  return whereGt<L>(x, 3.4028234e38, Infinity, whereLt<L>(x, 1.17549435e-38, -Infinity, r));
}
