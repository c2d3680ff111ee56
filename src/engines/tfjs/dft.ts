/**
 * DFT matrices for transforms done as real GEMMs (tfjs has no rfft2d, and wasm no complex kernels).
 * Angles are reduced mod N in integers before the float64 trig, then stored as float32.
 * Planar complex layout: a leading (or trailing) axis of size 2 holds (real, imaginary).
 */

const cache = new Map<string, Float32Array>();

function memo(key: string, make: () => Float32Array): Float32Array {
  let m = cache.get(key);
  if (!m) {
    m = make();
    cache.set(key, m);
  }
  return m;
}

const angle = (a: number, b: number, n: number) => (2 * Math.PI * ((a * b) % n)) / n;

/** Real → half spectrum along the last axis, right-multiply: (Q × 2V), columns (re v…, im v…), e^{−iθ}. */
export function r2cMatrix(q: number, v: number): Float32Array {
  return memo(`r2c:${q}:${v}`, () => {
    const m = new Float32Array(q * 2 * v);
    for (let i = 0; i < q; i++)
      for (let k = 0; k < v; k++) {
        const t = angle(i, k, q);
        m[i * 2 * v + k] = Math.cos(t);
        m[i * 2 * v + v + k] = -Math.sin(t);
      }
    return m;
  });
}

/** Cos and sin (N × N) for a complex DFT along the last axis done as 4 real GEMMs. */
export function cosSin(n: number): { cos: Float32Array; sin: Float32Array } {
  return {
    cos: memo(`cos:${n}`, () => {
      const m = new Float32Array(n * n);
      for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) m[i * n + k] = Math.cos(angle(i, k, n));
      return m;
    }),
    sin: memo(`sin:${n}`, () => {
      const m = new Float32Array(n * n);
      for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) m[i * n + k] = Math.sin(angle(i, k, n));
      return m;
    }),
  };
}

/**
 * Complex DFT along the leading axis of a planar (2, N, rest) tensor, left-multiply:
 * rows (ri_out, k ∈ window), columns (ri_in, n). Forward e^{−iθ}: [[C, S], [−S, C]];
 * inverse e^{+iθ}/N: [[C, −S], [S, C]]/N. `off, len` select output rows (crop folded in).
 */
export function complexBlock(n: number, inverse: boolean, off = 0, len = n): Float32Array {
  return memo(`blk:${n}:${inverse}:${off}:${len}`, () => {
    const m = new Float32Array(2 * len * 2 * n);
    const cols = 2 * n;
    const scale = inverse ? 1 / n : 1;
    const sgn = inverse ? -1 : 1;
    for (let r = 0; r < len; r++) {
      const k = r + off;
      for (let j = 0; j < n; j++) {
        const t = angle(k, j, n);
        const c = Math.cos(t) * scale;
        const s = Math.sin(t) * scale;
        m[r * cols + j] = c; // re ← re
        m[r * cols + n + j] = sgn * s; // re ← im
        m[(len + r) * cols + j] = -sgn * s; // im ← re
        m[(len + r) * cols + n + j] = c; // im ← im
      }
    }
    return m;
  });
}

/**
 * Half spectrum → real along the last axis, right-multiply: rows (ri, v), columns w ∈ window,
 * y[w] = (1/Q)·Σ_v c_v (Re·cos − Im·sin), c_v = 1 at DC and Nyquist, else 2.
 */
export function c2rMatrix(q: number, v: number, off = 0, len = q): Float32Array {
  return memo(`c2r:${q}:${v}:${off}:${len}`, () => {
    const m = new Float32Array(2 * v * len);
    for (let k = 0; k < v; k++) {
      const c = k === 0 || (q % 2 === 0 && k === q / 2) ? 1 : 2;
      for (let r = 0; r < len; r++) {
        const t = angle(k, r + off, q);
        m[k * len + r] = (c * Math.cos(t)) / q;
        m[(v + k) * len + r] = (-c * Math.sin(t)) / q;
      }
    }
    return m;
  });
}

/**
 * Complex DFT as a right-multiply by a constant (XNNPACK caches the packed constant operand, so the
 * data goes on the left): the transpose of `complexBlock`, rows (ri_in, j), columns (ri_out, k).
 */
export function complexRight(n: number, inverse: boolean, off = 0, len = n): Float32Array {
  return memo(`right:${n}:${inverse}:${off}:${len}`, () => {
    return transposeOf(complexBlock(n, inverse, off, len), 2 * len, 2 * n);
  });
}

/** `c2rMatrix` with rows ordered (v, ri) instead of (ri, v). */
export function c2rInterleaved(q: number, v: number, off = 0, len = q): Float32Array {
  return memo(`c2ri:${q}:${v}:${off}:${len}`, () => {
    const src = c2rMatrix(q, v, off, len);
    const m = new Float32Array(src.length);
    for (let ri = 0; ri < 2; ri++)
      for (let k = 0; k < v; k++) m.set(src.subarray((ri * v + k) * len, (ri * v + k + 1) * len), (k * 2 + ri) * len);
    return m;
  });
}

/** The transpose of a row-major (rows × cols) matrix. */
export function transposeOf(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c]!;
  return out;
}

/**
 * The forward DFT over an axis of length n at the kept frequencies only, as a right operand: rows
 * (ri_in, h), columns (kept frequency, ri_out) interleaved — so the output's last axis is (mode, re|im).
 */
export function keptForwardRight(n: number, freqs: readonly number[]): Float32Array {
  return memo(`kfr:${n}:${freqs.join(',')}`, () => {
    const R = freqs.length;
    const cols = 2 * R;
    const m = new Float32Array(2 * n * cols);
    freqs.forEach((k, r) => {
      for (let h = 0; h < n; h++) {
        const t = angle(k, h, n);
        const c = Math.cos(t),
          s = Math.sin(t);
        m[h * cols + 2 * r] = c; // re ← re
        m[(n + h) * cols + 2 * r] = s; // re ← im
        m[h * cols + 2 * r + 1] = -s; // im ← re
        m[(n + h) * cols + 2 * r + 1] = c; // im ← im
      }
    });
    return m;
  });
}

/**
 * The inverse DFT over an axis of length n from the kept frequencies only (1/n included), as a right
 * operand: rows (kept frequency, ri_in) interleaved, columns (ri_out, h).
 */
export function keptInverseRight(n: number, freqs: readonly number[]): Float32Array {
  return memo(`kir:${n}:${freqs.join(',')}`, () => {
    const cols = 2 * n;
    const m = new Float32Array(2 * freqs.length * cols);
    freqs.forEach((k, r) => {
      for (let h = 0; h < n; h++) {
        const t = angle(k, h, n);
        const c = Math.cos(t) / n,
          s = Math.sin(t) / n;
        m[2 * r * cols + h] = c; // re ← re
        m[(2 * r + 1) * cols + h] = -s; // re ← im
        m[2 * r * cols + n + h] = s; // im ← re
        m[(2 * r + 1) * cols + n + h] = c; // im ← im
      }
    });
    return m;
  });
}
