// Float comparison with a tolerance. (chai's closeTo is replaced by hardhat-ethers-chai-matchers
// with a bigint version that rejects fractional tolerances once any test has loaded Hardhat.)
import { expect } from "chai";

export function expectNear(actual: number, expected: number, tolerance: number, what = "value"): void {
  expect(Math.abs(actual - expected) <= tolerance, `${what}: expected ${actual} to be within ${tolerance} of ${expected}`).to.equal(true);
}
