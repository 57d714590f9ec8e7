// The protocol adapter: what fork validation needs from a protocol, so another protocol can be
// plugged in beside the demo one (read parameters, encode the update, find positions, liquidate).
import type { Contract, Signer } from "ethers";
import type { PositionSpec } from "./population.ts";

export interface MarginParams {
  initialMarginBps: bigint;
  maintenanceMarginBps: bigint;
  liquidationBufferBps: bigint;
}

export interface PositionHealth {
  id: bigint;
  liquidatable: boolean;
  /** Token units at the current oracle price. */
  equity: bigint;
  notional: bigint;
}

/** An open position and the oracle price (feed units) at which it becomes liquidatable. */
export interface WatchedPosition {
  id: bigint;
  isLong: boolean;
  liquidationPrice: number;
}

export interface LiquidationResult {
  ok: boolean;
  /** Equity at liquidation, token units (negative: the liquidation came too late). */
  equity: bigint;
  reward: bigint;
  badDebt: bigint;
  /** The protocol's custom error when the liquidation reverted. */
  error?: string;
}

export interface ProtocolAdapter {
  readonly name: string;
  readMarginParams(): Promise<MarginParams>;
  /** Opens the population on the protocol (funds the trader first). Returns the ids opened. */
  openPositions(specs: readonly PositionSpec[], trader: Signer, funder: Signer): Promise<bigint[]>;
  /** Every open position and whether it is liquidatable now (one scan, for the start and the end). */
  positionHealth(): Promise<PositionHealth[]>;
  /**
   * Open positions with the price at which each becomes liquidatable under `params`: a liquidator
   * computes these off-chain and asks the chain only about positions the price has crossed.
   */
  watchList(params: MarginParams): Promise<WatchedPosition[]>;
  isLiquidatable(id: bigint): Promise<boolean>;
  liquidate(id: bigint, liquidator: Signer): Promise<LiquidationResult>;
  totalBadDebt(): Promise<bigint>;
  poolBalance(): Promise<bigint>;
}

interface DemoContracts {
  protocol: Contract;
  collateral: Contract;
  steward: Contract;
  marketId: string;
}

/** The demo margin protocol (contracts/demo), scanned with its `positionHealth` view in one call per step. */
export class DemoProtocolAdapter implements ProtocolAdapter {
  readonly name = "DemoMarginProtocol";
  readonly #c: DemoContracts;

  constructor(contracts: DemoContracts) {
    this.#c = contracts;
  }

  async readMarginParams(): Promise<MarginParams> {
    const [initialMarginBps, maintenanceMarginBps, liquidationBufferBps] = await this.#c.steward.getFunction("getMarginParams")(this.#c.marketId);
    return { initialMarginBps, maintenanceMarginBps, liquidationBufferBps };
  }

  async openPositions(specs: readonly PositionSpec[], trader: Signer, funder: Signer): Promise<bigint[]> {
    const total = specs.reduce((sum, s) => sum + s.collateral, 0n);
    const traderAddress = await trader.getAddress();
    const protocolAddress = await this.#c.protocol.getAddress();
    await (await (this.#c.collateral.connect(funder) as Contract).getFunction("mint")(traderAddress, total)).wait();
    await (await (this.#c.collateral.connect(trader) as Contract).getFunction("approve")(protocolAddress, total)).wait();
    const protocol = this.#c.protocol.connect(trader) as Contract;
    const first = BigInt(await this.#c.protocol.getFunction("positionCount")());
    for (const spec of specs) {
      await (await protocol.getFunction("openPosition")(spec.isLong, spec.collateral, spec.notional)).wait();
    }
    return specs.map((_, i) => first + BigInt(i));
  }

  async positionHealth(): Promise<PositionHealth[]> {
    // One eth_call: the protocol's own batch view (ids past the end are clamped).
    const rows = await this.#c.protocol.getFunction("positionHealth")(0n, 2n ** 64n);
    return rows.map((r: PositionHealth) => ({ id: r.id, liquidatable: r.liquidatable, equity: r.equity, notional: r.notional }));
  }

  async watchList(params: MarginParams): Promise<WatchedPosition[]> {
    const open = await this.positionHealth();
    const scale = 10 ** Number(await this.#feedDecimals());
    const m = Number(params.maintenanceMarginBps) / 10_000;
    return Promise.all(open.map(async ({ id }) => {
      const p = await this.#c.protocol.getFunction("getPosition")(id);
      // In base and quote units: equity(P) = C + S (P - E) for a long, C + S (E - P) for a short;
      // liquidatable once equity < S * P * m.
      const size = Number(p.sizeBase) / 1e18;
      const collateral = Number(p.collateral) / 1e18;
      const entry = Number(p.entryPrice) / scale;
      const price = p.isLong ? (size * entry - collateral) / (size * (1 - m)) : (collateral + size * entry) / (size * (1 + m));
      return { id, isLong: p.isLong as boolean, liquidationPrice: price * scale };
    }));
  }

  async isLiquidatable(id: bigint): Promise<boolean> {
    return this.#c.protocol.getFunction("isLiquidatable")(id);
  }

  async liquidate(id: bigint, liquidator: Signer): Promise<LiquidationResult> {
    const protocol = this.#c.protocol.connect(liquidator) as Contract;
    try {
      const receipt = await (await protocol.getFunction("liquidate")(id)).wait();
      for (const log of receipt?.logs ?? []) {
        const parsed = this.#c.protocol.interface.parseLog(log);
        if (parsed?.name === "PositionLiquidated") return { ok: true, equity: parsed.args.equity, reward: parsed.args.reward, badDebt: parsed.args.badDebt };
      }
      return { ok: true, equity: 0n, reward: 0n, badDebt: 0n };
    } catch (error) {
      const data = (error as { data?: string }).data;
      const parsed = data ? this.#c.protocol.interface.parseError(data) : null;
      return { ok: false, equity: 0n, reward: 0n, badDebt: 0n, error: parsed?.name ?? (error as Error).message };
    }
  }

  #decimals: bigint | undefined;
  async #feedDecimals(): Promise<bigint> {
    if (this.#decimals === undefined) {
      const feed = await this.#c.protocol.getFunction("feed")();
      const runner = this.#c.protocol.runner;
      const { Contract: EthersContract } = await import("ethers");
      const aggregator = new EthersContract(feed, ["function decimals() view returns (uint8)"], runner);
      this.#decimals = BigInt(await aggregator.getFunction("decimals")());
    }
    return this.#decimals;
  }

  async totalBadDebt(): Promise<bigint> {
    return this.#c.protocol.getFunction("totalBadDebt")();
  }

  async poolBalance(): Promise<bigint> {
    return this.#c.protocol.getFunction("poolBalance")();
  }
}
