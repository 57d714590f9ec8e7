// ReplayAggregator: loading recorded rounds in batches, serving them exactly as recorded through
// the AggregatorV3Interface, cursor and time playback, the time offset, and every custom error
// (with the state unchanged after the revert). The last suite loads a real slice of the ETH/USD
// Chainlink history across the phase-5 -> phase-6 migration and reads every round back.
import { readFileSync } from "node:fs";
import { expect } from "chai";
import { sharedDataFile } from "../support/shared-data.ts";
import { deployFixture, type Fixture } from "../support/deployment.ts";

const PHASE_SHIFT = 64n;
const UINT64_MAX = 2n ** 64n - 1n;

interface Round {
  roundId: bigint;
  answer: bigint;
  startedAt: bigint;
  updatedAt: bigint;
}

/** Proxy round id as Chainlink builds it: phase in the high bits, aggregator round in the low 64. */
const proxyRoundId = (phase: bigint, aggregatorRound: bigint) => (phase << PHASE_SHIFT) | aggregatorRound;

/** Arrays in the order loadRounds takes them. */
const columns = (rounds: Round[]) =>
  [rounds.map((r) => r.roundId), rounds.map((r) => r.answer), rounds.map((r) => r.startedAt), rounds.map((r) => r.updatedAt)] as const;

/** Minimal CSV reader for the data files (no quoted fields in them). */
function readCsv(file: string): Array<Record<string, string>> {
  const [header, ...lines] = readFileSync(file, "utf8").trim().split("\n");
  const names = header.split(",");
  return lines.map((line) => Object.fromEntries(line.split(",").map((v, i) => [names[i], v])));
}

/** "1601.69622249" -> 160169622249n at 8 decimals, exactly (no floating point). */
function decimalToRaw(text: string, decimals: number): bigint {
  const [whole, fraction = ""] = text.split(".");
  if (fraction.length > decimals) throw new Error(`${text} has more than ${decimals} decimals`);
  return BigInt(whole + fraction.padEnd(decimals, "0"));
}

describe("ReplayAggregator", () => {
  let f: Fixture;
  let feed: Fixture["feed"];
  let snapshotId: { restore(): Promise<void> };

  before(async () => {
    f = await deployFixture();
    feed = f.feed;
  });
  beforeEach(async () => {
    snapshotId = await f.helpers.takeSnapshot();
  });
  afterEach(async () => {
    await snapshotId.restore();
  });
  after(async () => {
    await f?.connection.close();
  });

  const asOutsider = () => feed.connect(f.signers.outsider) as Fixture["feed"];
  const served = async (call: Promise<unknown>) => {
    const [roundId, answer, startedAt, updatedAt, answeredInRound] = (await call) as bigint[];
    return { roundId, answer, startedAt, updatedAt, answeredInRound };
  };
  const asRecorded = (r: Round, offset = 0n) => ({
    roundId: r.roundId,
    answer: r.answer,
    startedAt: r.startedAt + offset,
    updatedAt: r.updatedAt + offset,
    answeredInRound: r.roundId,
  });
  /** Everything observable about the feed's playback state, compared around reverts. */
  const state = async () => {
    const [timeDriven, offset] = await feed.mode();
    return { loaded: await feed.loadedCount(), visible: await feed.visibleCount(), timeDriven, offset };
  };

  // Five synthetic rounds in phase 5, two sharing an updatedAt (as rounds 4577/4578 of the real feed do).
  const T0 = 1_700_000_000n;
  const ROUNDS: Round[] = [
    { roundId: proxyRoundId(5n, 100n), answer: 180_000_000_000n, startedAt: T0, updatedAt: T0 },
    { roundId: proxyRoundId(5n, 101n), answer: 179_500_000_000n, startedAt: T0 + 3_000n, updatedAt: T0 + 3_600n },
    { roundId: proxyRoundId(5n, 102n), answer: -1n, startedAt: T0 + 4_000n, updatedAt: T0 + 4_000n },
    { roundId: proxyRoundId(5n, 103n), answer: 0n, startedAt: T0 + 4_000n, updatedAt: T0 + 4_000n },
    { roundId: proxyRoundId(6n, 1n), answer: 181_234_567_891n, startedAt: T0 + 7_000n, updatedAt: T0 + 7_200n },
  ];

  describe("metadata and empty feed", () => {
    it("reports decimals, description, version and owner from the deployment", async () => {
      expect(await feed.decimals()).to.equal(8n);
      expect(await feed.description()).to.equal("ETH-USD (replay)");
      expect(await feed.version()).to.equal(4n);
      expect(await feed.owner()).to.equal(f.signers.deployer.address);
    });

    it("reverts reads like a Chainlink feed with no data", async () => {
      await expect(feed.latestRoundData()).to.be.revertedWithCustomError(feed, "ReplayNoData");
      await expect(feed.getRoundData(0)).to.be.revertedWithCustomError(feed, "ReplayRoundNotFound").withArgs(0);
      await expect(feed.getRoundData(ROUNDS[0].roundId)).to.be.revertedWithCustomError(feed, "ReplayRoundNotFound").withArgs(ROUNDS[0].roundId);
      expect(await state()).to.deep.equal({ loaded: 0n, visible: 0n, timeDriven: false, offset: 0n });
    });
  });

  describe("loading and cursor mode", () => {
    it("loads in batches, emitting first index, count and last id; nothing is visible before publishing", async () => {
      await expect(feed.loadRounds(...columns(ROUNDS.slice(0, 3))))
        .to.emit(feed, "RoundsLoaded").withArgs(0, 3, ROUNDS[2].roundId);
      await expect(feed.loadRounds(...columns(ROUNDS.slice(3))))
        .to.emit(feed, "RoundsLoaded").withArgs(3, 2, ROUNDS[4].roundId);
      await expect(feed.loadRounds([], [], [], [])).to.emit(feed, "RoundsLoaded").withArgs(5, 0, 0);
      expect(await state()).to.deep.equal({ loaded: 5n, visible: 0n, timeDriven: false, offset: 0n });
      await expect(feed.latestRoundData()).to.be.revertedWithCustomError(feed, "ReplayNoData");
      await expect(feed.getRoundData(ROUNDS[0].roundId)).to.be.revertedWithCustomError(feed, "ReplayRoundNotFound").withArgs(ROUNDS[0].roundId);
    });

    it("publishes forward only and serves each round exactly as recorded, zero and negative answers included", async () => {
      await feed.loadRounds(...columns(ROUNDS));
      await expect(feed.publishThrough(2)).to.emit(feed, "RoundsPublished").withArgs(2, ROUNDS[1].roundId);
      expect(await served(feed.latestRoundData())).to.deep.equal(asRecorded(ROUNDS[1]));
      expect(await served(feed.getRoundData(ROUNDS[0].roundId))).to.deep.equal(asRecorded(ROUNDS[0]));
      // Loaded but not yet published.
      await expect(feed.getRoundData(ROUNDS[2].roundId)).to.be.revertedWithCustomError(feed, "ReplayRoundNotFound").withArgs(ROUNDS[2].roundId);

      // Same count again is allowed (no-op); backwards and beyond the loaded rounds are not.
      await expect(feed.publishThrough(2)).to.emit(feed, "RoundsPublished").withArgs(2, ROUNDS[1].roundId);
      await expect(feed.publishThrough(1)).to.be.revertedWithCustomError(feed, "ReplayBadPublishCount").withArgs(1, 2, 5);
      await expect(feed.publishThrough(6)).to.be.revertedWithCustomError(feed, "ReplayBadPublishCount").withArgs(6, 2, 5);
      expect(await state()).to.deep.equal({ loaded: 5n, visible: 2n, timeDriven: false, offset: 0n });
      expect(await served(feed.latestRoundData())).to.deep.equal(asRecorded(ROUNDS[1]));

      await feed.publishThrough(5);
      for (const r of ROUNDS) expect(await served(feed.getRoundData(r.roundId))).to.deep.equal(asRecorded(r));
      expect(await served(feed.latestRoundData())).to.deep.equal(asRecorded(ROUNDS[4]));
      // Ids between recorded ones (the phase gap) and id 0 are unknown.
      await expect(feed.getRoundData(proxyRoundId(5n, 104n))).to.be.revertedWithCustomError(feed, "ReplayRoundNotFound").withArgs(proxyRoundId(5n, 104n));
      await expect(feed.getRoundData(0)).to.be.revertedWithCustomError(feed, "ReplayRoundNotFound").withArgs(0);
    });

    it("publishes rounds loaded after an earlier publication", async () => {
      await feed.loadRounds(...columns(ROUNDS.slice(0, 2)));
      await feed.publishThrough(2);
      await feed.loadRounds(...columns(ROUNDS.slice(2)));
      expect(await feed.visibleCount()).to.equal(2n);
      await expect(feed.publishThrough(4)).to.emit(feed, "RoundsPublished").withArgs(4, ROUNDS[3].roundId);
      expect(await served(feed.latestRoundData())).to.deep.equal(asRecorded(ROUNDS[3]));
    });

    it("publishThrough(0) on an empty feed is a no-op that emits latest id 0", async () => {
      await expect(feed.publishThrough(0)).to.emit(feed, "RoundsPublished").withArgs(0, 0);
      await expect(feed.publishThrough(1)).to.be.revertedWithCustomError(feed, "ReplayBadPublishCount").withArgs(1, 0, 0);
    });
  });

  describe("load validation (the whole batch reverts)", () => {
    const r = ROUNDS[0];
    const cases: Array<{ name: string; batch: () => ReturnType<typeof columns> | bigint[][]; error: string; args: unknown[]; preload?: Round[] }> = [
      {
        name: "arrays of different lengths",
        batch: () => [[r.roundId, r.roundId + 1n], [r.answer], [r.startedAt, r.startedAt], [r.updatedAt, r.updatedAt]],
        error: "ReplayLengthMismatch",
        args: [2, 1, 2, 2],
      },
      {
        name: "updatedAts shorter than ids",
        batch: () => [[r.roundId], [r.answer], [r.startedAt], []],
        error: "ReplayLengthMismatch",
        args: [1, 1, 1, 0],
      },
      {
        name: "round id 0",
        batch: () => columns([{ ...r, roundId: 0n }]),
        error: "ReplayRoundIdNotIncreasing",
        args: [0, 0],
      },
      {
        name: "a repeated id inside the batch (after a valid first round)",
        batch: () => columns([r, { ...ROUNDS[1], roundId: r.roundId }]),
        error: "ReplayRoundIdNotIncreasing",
        args: [r.roundId, r.roundId],
      },
      {
        name: "an id below the last loaded one, across batches",
        preload: ROUNDS.slice(0, 2),
        batch: () => columns([{ ...ROUNDS[2], roundId: ROUNDS[1].roundId - 1n }]),
        error: "ReplayRoundIdNotIncreasing",
        args: [ROUNDS[1].roundId, ROUNDS[1].roundId - 1n],
      },
      {
        name: "startedAt after updatedAt",
        batch: () => columns([{ ...r, startedAt: r.updatedAt + 1n }]),
        error: "ReplayBadTimestamps",
        args: [r.roundId, r.updatedAt + 1n, r.updatedAt, 0],
      },
      {
        name: "updatedAt going backwards, across batches",
        preload: ROUNDS.slice(0, 2),
        batch: () => columns([{ ...ROUNDS[2], startedAt: ROUNDS[1].updatedAt - 1n, updatedAt: ROUNDS[1].updatedAt - 1n }]),
        error: "ReplayBadTimestamps",
        args: [ROUNDS[2].roundId, ROUNDS[1].updatedAt - 1n, ROUNDS[1].updatedAt - 1n, ROUNDS[1].updatedAt],
      },
      {
        name: "updatedAt above uint64",
        batch: () => columns([{ ...r, startedAt: 0n, updatedAt: UINT64_MAX + 1n }]),
        error: "ReplayBadTimestamps",
        args: [r.roundId, 0, UINT64_MAX + 1n, 0],
      },
    ];
    for (const c of cases) {
      it(`rejects ${c.name} with ${c.error}`, async () => {
        if (c.preload) {
          await feed.loadRounds(...columns(c.preload));
          await feed.publishThrough(c.preload.length);
        }
        const before = await state();
        const [ids, answers, starts, updates] = c.batch();
        await expect(feed.loadRounds(ids, answers, starts, updates)).to.be.revertedWithCustomError(feed, c.error).withArgs(...c.args);
        expect(await state()).to.deep.equal(before);
        if (c.preload) {
          expect(await served(feed.latestRoundData())).to.deep.equal(asRecorded(c.preload[c.preload.length - 1]));
        }
      });
    }

    it("accepts updatedAt exactly at uint64 max and an updatedAt equal to the previous one", async () => {
      await feed.loadRounds(...columns([ROUNDS[2], ROUNDS[3]])); // equal updatedAt
      const last = { roundId: ROUNDS[4].roundId, answer: 1n, startedAt: UINT64_MAX, updatedAt: UINT64_MAX };
      await feed.loadRounds(...columns([last]));
      await feed.publishThrough(3);
      expect(await served(feed.latestRoundData())).to.deep.equal(asRecorded(last));
    });
  });

  describe("access control", () => {
    it("only the owner loads, publishes and sets the mode", async () => {
      await feed.loadRounds(...columns(ROUNDS));
      const before = await state();
      const who = f.signers.outsider.address;
      await expect(asOutsider().loadRounds(...columns([{ ...ROUNDS[4], roundId: ROUNDS[4].roundId + 1n }])))
        .to.be.revertedWithCustomError(feed, "OwnableUnauthorizedAccount").withArgs(who);
      await expect(asOutsider().publishThrough(1)).to.be.revertedWithCustomError(feed, "OwnableUnauthorizedAccount").withArgs(who);
      await expect(asOutsider().setMode(true, 0)).to.be.revertedWithCustomError(feed, "OwnableUnauthorizedAccount").withArgs(who);
      expect(await state()).to.deep.equal(before);
    });
  });

  describe("time mode", () => {
    /** Mines one block at `timestamp` and returns its number, so reads can be pinned to it. */
    const mineAt = async (timestamp: bigint) => {
      await f.helpers.time.setNextBlockTimestamp(timestamp);
      await f.helpers.mine();
      return f.ethers.provider.getBlockNumber();
    };
    const visibleAt = (blockTag: number) => feed.visibleCount({ blockTag });

    it("makes a round visible at exactly its updatedAt, not one second before (binary search boundaries)", async () => {
      const now = BigInt(await f.helpers.time.latest());
      const base = now + 1_000n;
      // Ten rounds, some sharing an updatedAt, so the search meets runs of equal keys.
      const gaps = [0n, 60n, 0n, 0n, 1n, 3_600n, 24n, 0n, 2n, 100n];
      const rounds: Round[] = [];
      let t = base;
      gaps.forEach((gap, i) => {
        t += gap;
        rounds.push({ roundId: proxyRoundId(6n, BigInt(i + 1)), answer: BigInt(150_000_000_000 + i), startedAt: t - 5n, updatedAt: t });
      });
      await feed.loadRounds(...columns(rounds));
      await expect(feed.setMode(true, 0)).to.emit(feed, "ModeSet").withArgs(true, 0);
      const expectedVisible = (time: bigint) => BigInt(rounds.filter((r) => r.updatedAt <= time).length);

      const before = await mineAt(base - 1n);
      expect(await visibleAt(before)).to.equal(0n);
      await expect(feed.latestRoundData({ blockTag: before })).to.be.revertedWithCustomError(feed, "ReplayNoData");

      const distinct = [...new Set(rounds.map((r) => r.updatedAt))];
      for (const [i, u] of distinct.entries()) {
        // One second before: the previous distinct time was mined already when u - 1 equals it.
        if (i > 0 && distinct[i - 1] < u - 1n) {
          const block = await mineAt(u - 1n);
          expect(await visibleAt(block)).to.equal(expectedVisible(u - 1n), `at ${u} - 1`);
        }
        const block = await mineAt(u);
        const visible = expectedVisible(u);
        expect(await visibleAt(block)).to.equal(visible, `at ${u}`);
        expect(await served(feed.latestRoundData({ blockTag: block }))).to.deep.equal(asRecorded(rounds[Number(visible) - 1]));
        // The first round not yet visible is not served by id either.
        if (visible < BigInt(rounds.length)) {
          const next = rounds[Number(visible)];
          await expect(feed.getRoundData(next.roundId, { blockTag: block }))
            .to.be.revertedWithCustomError(feed, "ReplayRoundNotFound").withArgs(next.roundId);
        }
      }
      expect(expectedVisible(distinct[0])).to.equal(1n);
      expect(expectedVisible(distinct[1])).to.equal(4n); // three rounds share the second timestamp
      // publishThrough does not change what time mode serves.
      await feed.publishThrough(1);
      expect(await feed.visibleCount()).to.equal(10n);
    });

    it("serves recorded timestamps shifted by the offset and plays a 2023 history on today's clock", async () => {
      await feed.loadRounds(...columns(ROUNDS));
      const now = BigInt(await f.helpers.time.latest());
      const offset = now + 100n - ROUNDS[0].updatedAt; // round 0 shows up 100 s from now
      await expect(feed.setMode(true, offset)).to.emit(feed, "ModeSet").withArgs(true, offset);
      expect(await feed.mode()).to.deep.equal([true, offset]);
      await expect(feed.latestRoundData()).to.be.revertedWithCustomError(feed, "ReplayNoData");

      await f.helpers.time.increaseTo(ROUNDS[1].updatedAt + offset - 1n);
      expect(await feed.visibleCount({ blockTag: "latest" })).to.equal(1n);
      expect(await served(feed.latestRoundData({ blockTag: "latest" }))).to.deep.equal(asRecorded(ROUNDS[0], offset));
      await f.helpers.time.increaseTo(ROUNDS[4].updatedAt + offset);
      expect(await feed.visibleCount({ blockTag: "latest" })).to.equal(5n);
      for (const r of ROUNDS) expect(await served(feed.getRoundData(r.roundId, { blockTag: "latest" }))).to.deep.equal(asRecorded(r, offset));

      // Back to cursor mode: the offset still applies to what is served.
      await feed.setMode(false, -1_000n);
      await feed.publishThrough(2);
      expect(await served(feed.latestRoundData())).to.deep.equal(asRecorded(ROUNDS[1], -1_000n));
    });

    it("rejects an offset that would serve a negative timestamp, leaving the mode unchanged", async () => {
      await feed.loadRounds(...columns(ROUNDS));
      await feed.setMode(false, 7n);
      const first = ROUNDS[0].startedAt;
      await expect(feed.setMode(true, -first - 1n)).to.be.revertedWithCustomError(feed, "ReplayBadOffset").withArgs(-first - 1n);
      expect(await feed.mode()).to.deep.equal([false, 7n]);
      // Exactly zero is fine: round 0 is served at time 0.
      await feed.setMode(false, -first);
      await feed.publishThrough(1);
      expect((await served(feed.latestRoundData())).startedAt).to.equal(0n);
    });

    it("rejects a negative offset against any loaded round, not only the first one", async () => {
      // Round 1 started before round 0 did (startedAt may precede the previous round's; only
      // updatedAt is ordered), so an offset that is safe for round 0 is not safe for round 1.
      const early: Round[] = [
        { roundId: 10n, answer: 1n, startedAt: 1_000n, updatedAt: 1_000n },
        { roundId: 11n, answer: 2n, startedAt: 500n, updatedAt: 2_000n },
      ];
      await feed.loadRounds(...columns(early));
      await expect(feed.setMode(false, -800n)).to.be.revertedWithCustomError(feed, "ReplayBadOffset").withArgs(-800n);
      expect(await feed.mode()).to.deep.equal([false, 0n]);
    });

    it("rejects loading a round that the current offset would serve at a negative time", async () => {
      await feed.setMode(false, -1_000n); // nothing loaded yet: accepted
      await expect(feed.loadRounds(...columns([{ roundId: 1n, answer: 1n, startedAt: 999n, updatedAt: 5_000n }])))
        .to.be.revertedWithCustomError(feed, "ReplayBadOffset").withArgs(-1_000n);
      expect(await feed.loadedCount()).to.equal(0n);
      await feed.loadRounds(...columns([{ roundId: 1n, answer: 1n, startedAt: 1_000n, updatedAt: 5_000n }]));
      await feed.publishThrough(1);
      expect(await served(feed.latestRoundData())).to.deep.equal({ roundId: 1n, answer: 1n, startedAt: 0n, updatedAt: 4_000n, answeredInRound: 1n });
    });
  });

  describe("real ETH/USD rounds across the phase 5 -> 6 migration", () => {
    // SOURCE.md: the proxy served phase 5 until 2023-05-07 and phase 6 from 2023-05-08. The last 30
    // phase-5 rounds come from the daily file (one per day, updatedAt parsed from its UTC text,
    // startedAt = updatedAt as on these OCR feeds), then 300 phase-6 rounds from 2023-05-08 on.
    const PHASE6_FROM = BigInt(Date.UTC(2023, 4, 8) / 1000);
    let rounds: Round[];
    let phase5Count: number;

    before(function () {
      const dailyFile = sharedDataFile(this, "chainlink-rounds/chainlink_eth_usd_daily_2359utc.csv");
      const roundsFile = sharedDataFile(this, "chainlink-rounds/chainlink_eth_usd_rounds.csv");
      const phase5 = readCsv(dailyFile)
        .filter((row) => row.phase_id === "5")
        .slice(-30)
        .map((row) => {
          const updatedAt = BigInt(Date.parse(`${row.updated_at_utc.replace(" ", "T")}Z`) / 1000);
          expect(BigInt(row.round_id)).to.equal(proxyRoundId(5n, BigInt(row.aggregator_round_id)));
          return { roundId: BigInt(row.round_id), answer: decimalToRaw(row.answer, 8), startedAt: updatedAt, updatedAt };
        });
      const phase6 = readCsv(roundsFile)
        .filter((row) => BigInt(row.updated_at) >= PHASE6_FROM)
        .slice(0, 300)
        .map((row) => {
          expect(row.answered_in_round).to.equal(row.round_id);
          expect(decimalToRaw(row.answer, 8)).to.equal(BigInt(row.answer_raw));
          return { roundId: BigInt(row.round_id), answer: BigInt(row.answer_raw), startedAt: BigInt(row.started_at), updatedAt: BigInt(row.updated_at) };
        });
      rounds = [...phase5, ...phase6];
      phase5Count = phase5.length;
    });

    it("loads 330 recorded rounds in batches and reads every one back exactly", async () => {
      expect(rounds).to.have.length(330);
      expect(rounds[phase5Count - 1].roundId >> PHASE_SHIFT).to.equal(5n);
      expect(rounds[phase5Count].roundId >> PHASE_SHIFT).to.equal(6n);
      // The first phase-6 round of 2023-05-08 (00:00:35 UTC) is aggregator round 1206.
      expect(rounds[phase5Count].roundId).to.equal(proxyRoundId(6n, 1_206n));

      for (let i = 0; i < rounds.length; i += 110) {
        const batch = rounds.slice(i, i + 110);
        await expect(feed.loadRounds(...columns(batch))).to.emit(feed, "RoundsLoaded").withArgs(i, batch.length, batch[batch.length - 1].roundId);
      }
      await feed.publishThrough(rounds.length);
      expect(await feed.loadedCount()).to.equal(330n);
      for (const r of rounds) {
        const got = await served(feed.getRoundData(r.roundId));
        expect(got).to.deep.equal(asRecorded(r));
        expect(got.roundId >> PHASE_SHIFT).to.equal(r.roundId >> PHASE_SHIFT);
      }
      expect(await served(feed.latestRoundData())).to.deep.equal(asRecorded(rounds[rounds.length - 1]));
      // Cross-check with the other source: the daily file says the proxy served round 6/1249 at
      // 1,850.08256 at 2023-05-08 23:59:59 UTC.
      const sample = await served(feed.getRoundData(proxyRoundId(6n, 1_249n)));
      expect([sample.answer, sample.updatedAt]).to.deep.equal([185_008_256_000n, BigInt(Date.UTC(2023, 4, 8, 23, 55, 47) / 1000)]);
    });

    it("switches from the phase-5 to the phase-6 round id exactly at the first phase-6 update (time mode)", async () => {
      const window = rounds.slice(phase5Count - 2, phase5Count + 2);
      await feed.loadRounds(...columns(window));
      const now = BigInt(await f.helpers.time.latest());
      const firstPhase6 = window[2];
      const offset = now + 1_000n - firstPhase6.updatedAt;
      await feed.setMode(true, offset);
      const mineAt = async (t: bigint) => {
        await f.helpers.time.setNextBlockTimestamp(t);
        await f.helpers.mine();
        return f.ethers.provider.getBlockNumber();
      };
      const before = await mineAt(firstPhase6.updatedAt + offset - 1n);
      expect(await served(feed.latestRoundData({ blockTag: before }))).to.deep.equal(asRecorded(window[1], offset));
      const at = await mineAt(firstPhase6.updatedAt + offset);
      const latest = await served(feed.latestRoundData({ blockTag: at }));
      expect(latest).to.deep.equal(asRecorded(firstPhase6, offset));
      expect(latest.roundId >> PHASE_SHIFT).to.equal(6n);
      // The older phase-5 round stays readable by id, as through a Chainlink proxy.
      expect(await served(feed.getRoundData(window[0].roundId, { blockTag: at }))).to.deep.equal(asRecorded(window[0], offset));
    });
  });
});
