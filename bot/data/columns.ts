// Growable Float64Array columns: the loaders append row by row without knowing the row count, and
// hand back exact-length typed arrays (no per-row objects kept, a fraction of the memory of arrays
// of objects).
export class Float64Column {
  #data: Float64Array;
  #length = 0;

  constructor(capacity = 1024) {
    this.#data = new Float64Array(capacity);
  }

  get length(): number {
    return this.#length;
  }

  push(value: number): void {
    if (this.#length === this.#data.length) {
      const next = new Float64Array(this.#data.length * 2);
      next.set(this.#data);
      this.#data = next;
    }
    this.#data[this.#length++] = value;
  }

  /**
   * The values pushed so far, as an exact-length view (no copy: the buffer may hold up to twice
   * the length, which is cheaper than a second full copy at the peak). Stop pushing after this.
   */
  toArray(): Float64Array {
    return this.#data.subarray(0, this.#length);
  }
}

/** Index of the last element of sorted `t` that is <= `at`, or -1 when all are later. */
export function lastIndexAtOrBefore(t: Float64Array, at: number): number {
  let lo = 0;
  let hi = t.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (t[mid] <= at) { ans = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return ans;
}
