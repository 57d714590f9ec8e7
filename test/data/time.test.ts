import { expect } from "chai";
import { expectNear } from "./near.ts";
import { detectTimeFormat, formatInterval, isoTime, parseInterval, parseTime, parseTimeArg } from "../../bot/data/time.ts";
import { isRiskkeeperError } from "../../bot/errors.ts";

describe("data/time", () => {
  const cases = [
    { name: "unix seconds", value: "1704067200", format: "unix_s", expected: 1704067200 },
    { name: "unix milliseconds", value: "1704067200123", format: "unix_ms", expected: 1704067200.123 },
    { name: "unix microseconds (Binance 2025 klines)", value: "1735689600000000", format: "unix_us", expected: 1735689600 },
    { name: "ISO date", value: "2024-02-29", format: "iso8601_date", expected: 1709164800 },
    { name: "ISO date-time with space, no zone (UTC)", value: "2018-01-01 00:00:00", format: "iso8601_datetime", expected: 1514764800 },
    { name: "ISO with T and Z", value: "2024-01-01T03:04:05Z", format: "iso8601_datetime", expected: 1704078245 },
    { name: "ISO with fraction", value: "2024-01-01T00:00:00.250Z", format: "iso8601_datetime", expected: 1704067200.25 },
    { name: "ISO with offset", value: "2024-01-01T02:00:00+02:00", format: "iso8601_datetime", expected: 1704067200 },
    { name: "ISO minutes only", value: "2024-01-01 00:30", format: "iso8601_datetime", expected: 1704069000 },
  ] as const;
  for (const c of cases) {
    it(`detects and parses ${c.name}`, () => {
      expect(detectTimeFormat(c.value)).to.equal(c.format);
      expectNear(parseTime(c.value, c.format), c.expected, 1e-6);
    });
  }

  it("rejects values that are not timestamps, or not in the detected format", () => {
    expect(detectTimeFormat("yesterday")).to.equal(undefined);
    expect(detectTimeFormat("")).to.equal(undefined);
    expect(parseTime("2024-02-30", "iso8601_date")).to.be.NaN;
    expect(parseTime("1704067200000", "unix_s")).to.be.NaN;
    expect(parseTime("2024-01-01", "iso8601_datetime")).to.be.NaN;
  });

  it("parses and formats intervals", () => {
    expect(parseInterval("1h")).to.equal(3600);
    expect(parseInterval("15m")).to.equal(900);
    expect(parseInterval("1d")).to.equal(86400);
    expect(parseInterval("90")).to.equal(90);
    expect(formatInterval(86400)).to.equal("1d");
    expect(formatInterval(5400)).to.equal("90m");
    expect(formatInterval(7)).to.equal("7s");
    expect(() => parseInterval("hourly")).to.throw().that.satisfies((e: unknown) => isRiskkeeperError(e, "INPUT_INVALID"));
  });

  it("formats Unix seconds as ISO, and parses --at arguments", () => {
    expect(isoTime(1704067200)).to.equal("2024-01-01T00:00:00Z");
    expect(isoTime(1704067200.5)).to.equal("2024-01-01T00:00:00.500Z");
    expect(parseTimeArg("2024-01-01T00:00:00Z", "--at")).to.equal(1704067200);
    expect(() => parseTimeArg("soon", "--at")).to.throw(/--at: 'soon'/);
  });
});
