// Small dense linear algebra for covariance matrices (k ≤ 6): inversion with partial pivoting.

/** Inverse of a square matrix (row-major arrays), or undefined when it is singular or non-finite. */
export function invert(m: readonly (readonly number[])[]): number[][] | undefined {
  const k = m.length;
  const a = m.map((row, i) => [...row, ...Array.from({ length: k }, (_, j) => (i === j ? 1 : 0))]);
  for (let col = 0; col < k; col++) {
    let piv = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) piv = r;
    const scale = Math.max(...m.map((row) => Math.abs(row[col])), 1e-300);
    if (!(Math.abs(a[piv][col]) > 1e-13 * scale)) return undefined;
    [a[col], a[piv]] = [a[piv], a[col]];
    const p = a[col][col];
    for (let j = 0; j < 2 * k; j++) a[col][j] /= p;
    for (let r = 0; r < k; r++) {
      if (r === col) continue;
      const f = a[r][col];
      if (f === 0) continue;
      for (let j = 0; j < 2 * k; j++) a[r][j] -= f * a[col][j];
    }
  }
  const inv = a.map((row) => row.slice(k));
  return inv.every((row) => row.every(Number.isFinite)) ? inv : undefined;
}

export function matMul(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number[][] {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, v, i) => s + v * b[i][j], 0)));
}
