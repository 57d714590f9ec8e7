// The keeper pipeline's view of the chain (bot/keeper/pipeline.ts ChainPort): read the managed
// parameters, read chain time, and send a bounded update through the transaction manager on the
// direct path. Lives here because only bot/chain (and bot/fork) talk to a provider.
import type { Provider } from "ethers";
import { PARAM } from "../../deploy/market-config.ts";
import type { StewardBinding } from "./bindings.ts";
import { submitDirectUpdate } from "./steward.ts";
import type { TxManager } from "./tx-manager.ts";

type Managed = "maintenanceMarginBps" | "initialMarginBps" | "volAnnualPpm";
const MANAGED: readonly Managed[] = ["maintenanceMarginBps", "initialMarginBps", "volAnnualPpm"];

export interface KeeperChainPort {
  readParams(marketId: string): Promise<Record<Managed, { value: number; updatedAt: number }>>;
  now(): Promise<number>;
  submit(change: { market: string; marketId: string; updates: Array<{ parameter: Managed | string; value: bigint }>; evidenceHash: string }): Promise<{ txHash: string; blockNumber: number; updateId: string }>;
}

export function keeperChainPort(options: { provider: Provider; steward: StewardBinding; manager: TxManager }): KeeperChainPort {
  const { provider, steward, manager } = options;
  return {
    async readParams(marketId) {
      const [values, updatedAts] = await steward.read.getAllParams(marketId);
      const out = {} as Record<Managed, { value: number; updatedAt: number }>;
      for (const p of MANAGED) out[p] = { value: Number(values[PARAM[p]]), updatedAt: Number(updatedAts[PARAM[p]]) };
      return out;
    },
    async now() {
      return (await provider.getBlock("latest"))!.timestamp;
    },
    async submit(change) {
      const result = await submitDirectUpdate(manager, steward, provider, {
        market: change.market,
        marketId: change.marketId,
        updates: change.updates.map((u) => ({ parameter: u.parameter as Managed, value: u.value })),
        evidenceHash: change.evidenceHash,
      });
      if (result.submission.dryRun) throw new Error("the keeper port never dry-runs");
      const receipt = result.submission.receipt;
      return { txHash: receipt.hash, blockNumber: receipt.blockNumber, updateId: result.updateId };
    },
  };
}
