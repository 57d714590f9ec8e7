// Oracle takeover: plays a scenario's prices through a ReplayAggregator that the protocol reads,
// one round per mined block at the scenario's own cadence (shifted onto the chain's clock).
import type { Contract } from "ethers";
import type { Scenario } from "./scenarios.ts";

export interface NetworkClock {
  latestTimestamp(): Promise<bigint>;
  setNextBlockTimestamp(timestamp: bigint): Promise<void>;
}

export class ReplayFeedDriver {
  readonly #feed: Contract; // connected to the feed's owner
  readonly #clock: NetworkClock;
  #decimals: bigint | undefined;

  constructor(feedAsOwner: Contract, clock: NetworkClock) {
    this.#feed = feedAsOwner;
    this.#clock = clock;
  }

  /**
   * Loads the scenario's rounds after whatever the feed holds and sets the time offset so that the
   * first round is served at the next block's time. Returns the index of the first new round.
   */
  async load(scenario: Scenario, batchSize = 100): Promise<{ firstIndex: bigint; startTimestamp: bigint; offset: bigint; answers: bigint[] }> {
    this.#decimals ??= BigInt(await this.#feed.getFunction("decimals")());
    const scale = 10 ** Number(this.#decimals);
    const firstIndex = BigInt(await this.#feed.getFunction("loadedCount")());
    const answers = scenario.rounds.map((r) => BigInt(Math.round(r.price * scale)));
    let lastId = BigInt(await this.#feed.getFunction("lastLoadedRoundId")());
    // Recorded times keep their spacing and are shifted so the first round lands just after the
    // blocks this load mines (one per batch, plus setMode): never in the chain's past.
    const batches = BigInt(Math.ceil(scenario.rounds.length / batchSize));
    const startTimestamp = (await this.#clock.latestTimestamp()) + batches + 2n;
    const t0 = BigInt(scenario.rounds[0].t);
    const offset = startTimestamp - t0;
    for (let from = 0; from < scenario.rounds.length; from += batchSize) {
      const batch = scenario.rounds.slice(from, from + batchSize);
      const ids = batch.map(() => ++lastId);
      // Stored timestamps are the recorded ones shifted by the offset of this load: older rounds
      // keep their own (earlier) times, so updatedAt stays non-decreasing across loads.
      const times = batch.map((r) => BigInt(r.t) + offset);
      await (await this.#feed.getFunction("loadRounds")(ids, answers.slice(from, from + batchSize), times, times)).wait();
    }
    await (await this.#feed.getFunction("setMode")(false, 0n)).wait();
    return { firstIndex, startTimestamp, offset, answers };
  }

  /** Publishes round `index` (absolute, in the feed) in a block mined at `timestamp`. */
  async publish(index: bigint, timestamp: bigint): Promise<void> {
    const latest = await this.#clock.latestTimestamp();
    await this.#clock.setNextBlockTimestamp(timestamp > latest ? timestamp : latest + 1n);
    await (await this.#feed.getFunction("publishThrough")(index + 1n)).wait();
  }
}
