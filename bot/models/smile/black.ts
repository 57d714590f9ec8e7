// Black-76 on a forward (undiscounted unless a discount factor is given) and its implied-volatility
// inversion (Newton with bisection safeguard). Used to turn option prices into IVs for SVI.
import { RiskkeeperError, assertInput } from "../../errors.ts";
import { normCdf, normPdf } from "../common/special.ts";

export type OptionType = "call" | "put";

/** Black-76 price of a European option on forward F, strike K, maturity T years, vol sigma. */
export function black76Price(type: OptionType, forward: number, strike: number, T: number, sigma: number, discount = 1): number {
  if (T <= 0 || sigma <= 0) return discount * Math.max(type === "call" ? forward - strike : strike - forward, 0);
  const sd = sigma * Math.sqrt(T);
  const d1 = (Math.log(forward / strike) + 0.5 * sd * sd) / sd;
  const d2 = d1 - sd;
  return type === "call"
    ? discount * (forward * normCdf(d1) - strike * normCdf(d2))
    : discount * (strike * normCdf(-d2) - forward * normCdf(-d1));
}

/** ∂price/∂sigma. */
export function black76Vega(forward: number, strike: number, T: number, sigma: number, discount = 1): number {
  if (T <= 0 || sigma <= 0) return 0;
  const sd = sigma * Math.sqrt(T);
  const d1 = (Math.log(forward / strike) + 0.5 * sd * sd) / sd;
  return discount * forward * normPdf(d1) * Math.sqrt(T);
}

/**
 * Implied vol from a Black-76 price. Throws MODEL_INPUT when the price is outside the no-arbitrage
 * range (below intrinsic or above the forward/strike bound).
 */
export function black76ImpliedVol(type: OptionType, price: number, forward: number, strike: number, T: number, discount = 1): number {
  for (const [v, name] of [[price, "price"], [forward, "forward"], [strike, "strike"], [T, "T"], [discount, "discount"]] as const) {
    assertInput(Number.isFinite(v) && (name === "price" ? v >= 0 : v > 0), `must be finite and positive, got ${v}`, name, "MODEL_INPUT");
  }
  const intrinsic = discount * Math.max(type === "call" ? forward - strike : strike - forward, 0);
  const upper = discount * (type === "call" ? forward : strike);
  if (!(price > intrinsic && price < upper)) {
    throw new RiskkeeperError("MODEL_INPUT", `price ${price} is outside (${intrinsic}, ${upper}): no implied vol`, { input: "price" });
  }
  let lo = 1e-6, hi = 20;
  let sigma = Math.sqrt((2 * Math.abs(Math.log(forward / strike))) / T) || 0.5;
  sigma = Math.min(Math.max(sigma, 0.05), 5);
  for (let i = 0; i < 100; i++) {
    const diff = black76Price(type, forward, strike, T, sigma, discount) - price;
    if (Math.abs(diff) < 1e-12 * Math.max(price, 1e-12)) return sigma;
    if (diff > 0) hi = sigma; else lo = sigma;
    const vega = black76Vega(forward, strike, T, sigma, discount);
    let next = vega > 1e-14 ? sigma - diff / vega : NaN;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (Math.abs(next - sigma) < 1e-13) return next;
    sigma = next;
  }
  return sigma;
}
