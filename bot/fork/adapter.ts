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
}

export interface LiquidationResult {
  ok: boolean;
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
  /** Every open position and whether it is liquidatable now. */
  positionHealth(): Promise<PositionHealth[]>;
  liquidate(id: bigint, liquidator: Signer): Promise<LiquidationResult>;
  totalBadDebt(): Promise<bigint>;
  poolBalance(): Promise<bigint>;
}

interface DemoContracts {
  protocol: Contract;
  lens: Contract;
  collateral: Contract;
  steward: Contract;
  marketId: string;
}

/** The demo margin protocol (contracts/demo), read through DemoProtocolLens in one call per step. */
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
    const count = await this.#c.protocol.getFunction("positionCount")();
    const rows = await this.#c.lens.getFunction("openPositionHealth")(await this.#c.protocol.getAddress(), 0n, count);
    return rows.map((r: { id: bigint; liquidatable: boolean; equity: bigint }) => ({ id: r.id, liquidatable: r.liquidatable, equity: r.equity }));
  }

  async liquidate(id: bigint, liquidator: Signer): Promise<LiquidationResult> {
    const protocol = this.#c.protocol.connect(liquidator) as Contract;
    try {
      const receipt = await (await protocol.getFunction("liquidate")(id)).wait();
      for (const log of receipt?.logs ?? []) {
        const parsed = this.#c.protocol.interface.parseLog(log);
        if (parsed?.name === "PositionLiquidated") return { ok: true, reward: parsed.args.reward, badDebt: parsed.args.badDebt };
      }
      return { ok: true, reward: 0n, badDebt: 0n };
    } catch (error) {
      const data = (error as { data?: string }).data;
      const parsed = data ? this.#c.protocol.interface.parseError(data) : null;
      return { ok: false, reward: 0n, badDebt: 0n, error: parsed?.name ?? (error as Error).message };
    }
  }

  async totalBadDebt(): Promise<bigint> {
    return this.#c.protocol.getFunction("totalBadDebt")();
  }

  async poolBalance(): Promise<bigint> {
    return this.#c.protocol.getFunction("poolBalance")();
  }
}
