// bot/commands/args.ts: the shared CLI parser. Every failure is CLI_USAGE naming the option (as
// `input`) and the command; typed readers refuse malformed and out-of-range numbers.
import { expect } from "chai";
import { parseCommandArgs } from "../../bot/commands/args.ts";
import { isRiskkeeperError } from "../../bot/errors.ts";

const OPTIONS = {
  input: { type: "string" },
  horizon: { type: "string" },
  rate: { type: "string" },
  fee: { type: "string" },
  model: { type: "string" },
  json: { type: "boolean", default: false },
} as const;

function usageError(fn: () => unknown): { input: string | undefined; message: string; details: Record<string, unknown> | undefined } {
  try {
    fn();
  } catch (error) {
    expect(isRiskkeeperError(error, "CLI_USAGE"), String(error)).to.equal(true);
    const e = error as { input: string | undefined; message: string; details: Record<string, unknown> | undefined };
    return { input: e.input, message: e.message, details: e.details };
  }
  return expect.fail("expected CLI_USAGE");
}

describe("cli: parseCommandArgs", () => {
  it("parses string and boolean options, inline values and defaults", () => {
    const a = parseCommandArgs("demo", ["--input", "a.csv", "--horizon=12"], OPTIONS);
    expect(a.values).to.deep.equal({ input: "a.csv", horizon: "12", json: false });
    expect(a.positionals).to.deep.equal([]);
    expect(parseCommandArgs("demo", ["--json"], OPTIONS).values.json).to.equal(true);
    // The values keep node's strict-mode types: a string or undefined, a boolean with its default.
    const typed: { input?: string; json: boolean } = a.values;
    // @ts-expect-error a boolean option is not a string
    const wrong: string = a.values.json;
    expect([typed, wrong]).to.have.length(2);
    // A value may start with a dash when it is a number (the bounds then judge it) or is inline.
    expect(parseCommandArgs("demo", ["--rate", "-0.5", "--input=-odd.csv"], OPTIONS).values).to.include({ rate: "-0.5", input: "-odd.csv" });
  });

  it("positionals only when the command takes them, after -- too", () => {
    expect(parseCommandArgs("demo", ["f.csv", "--json", "--", "--g.csv"], OPTIONS, { positionals: true }).positionals).to.deep.equal(["f.csv", "--g.csv"]);
  });

  const parseFailures: { name: string; argv: string[]; input: string; message: RegExp }[] = [
    { name: "unknown long option", argv: ["--nope"], input: "--nope", message: /unknown option --nope/ },
    { name: "unknown option with a value", argv: ["--nope=1"], input: "--nope", message: /unknown option --nope/ },
    { name: "unknown short option", argv: ["-x"], input: "-x", message: /unknown option -x/ },
    { name: "missing value at the end", argv: ["--input"], input: "--input", message: /--input: needs a value/ },
    { name: "next option taken as the value", argv: ["--input", "--json"], input: "--input", message: /--input: needs a value/ },
    { name: "empty inline value", argv: ["--input="], input: "--input", message: /--input: needs a value/ },
    { name: "a value on a switch", argv: ["--json=yes"], input: "--json", message: /--json: takes no value, got 'yes'/ },
    { name: "unexpected positional", argv: ["stray.csv"], input: "stray.csv", message: /unexpected argument 'stray\.csv'/ },
    { name: "positional after --", argv: ["--", "x"], input: "x", message: /unexpected argument 'x'/ },
  ];
  for (const c of parseFailures) {
    it(`parse failure: ${c.name}`, () => {
      const e = usageError(() => parseCommandArgs("demo cmd", c.argv, OPTIONS));
      expect(e.input).to.equal(c.input);
      expect(e.message).to.match(c.message);
      expect(e.message).to.contain("riskkeeper demo cmd --help");
      expect(e.details).to.deep.equal({ command: "demo cmd" });
    });
  }

  it("the first bad argument is the one reported", () => {
    expect(usageError(() => parseCommandArgs("demo", ["--nope", "--input"], OPTIONS)).input).to.equal("--nope");
  });

  const numbers: { name: string; value: string; read: "number" | "integer"; bounds: object; expected: number | RegExp }[] = [
    { name: "integer", value: "24", read: "integer", bounds: { min: 1 }, expected: 24 },
    { name: "integer with exponent", value: "1e3", read: "integer", bounds: {}, expected: 1000 },
    { name: "fraction", value: "0.94", read: "number", bounds: { above: 0, below: 1 }, expected: 0.94 },
    { name: "leading dot", value: ".5", read: "number", bounds: {}, expected: 0.5 },
    { name: "not a number", value: "abc", read: "integer", bounds: { min: 1 }, expected: /expected an integer >= 1, got 'abc'/ },
    { name: "NaN", value: "NaN", read: "number", bounds: {}, expected: /expected a number, got 'NaN'/ },
    { name: "Infinity", value: "Infinity", read: "number", bounds: {}, expected: /got 'Infinity'/ },
    { name: "overflow to Infinity", value: "1e999", read: "number", bounds: {}, expected: /got '1e999'/ },
    { name: "hex", value: "0x10", read: "integer", bounds: {}, expected: /got '0x10'/ },
    { name: "blank", value: " ", read: "number", bounds: {}, expected: /got ' '/ },
    { name: "negative where >= 0", value: "-1", read: "integer", bounds: { min: 0 }, expected: /expected an integer >= 0, got '-1'/ },
    { name: "fraction where integer", value: "2.5", read: "integer", bounds: {}, expected: /expected an integer, got '2.5'/ },
    { name: "unsafe integer", value: "9007199254740993", read: "integer", bounds: {}, expected: /got '9007199254740993'/ },
    { name: "open interval", value: "1", read: "number", bounds: { above: 0, below: 1 }, expected: /expected a number > 0 and < 1, got '1'/ },
    { name: "above the max", value: "11", read: "number", bounds: { max: 10 }, expected: /expected a number <= 10, got '11'/ },
  ];
  for (const c of numbers) {
    it(`${c.read}: ${c.name}`, () => {
      const a = parseCommandArgs("demo", ["--horizon", c.value], OPTIONS);
      const read = () => (c.read === "integer" ? a.integer("horizon", c.bounds) : a.number("horizon", c.bounds));
      if (typeof c.expected === "number") {
        expect(read()).to.equal(c.expected);
        return;
      }
      const e = usageError(read);
      expect(e.input).to.equal("--horizon");
      expect(e.message).to.match(c.expected).and.contain("riskkeeper demo --help");
    });
  }

  it("absent numbers give the default (unchecked) or undefined", () => {
    const a = parseCommandArgs("demo", [], OPTIONS);
    expect(a.integer("horizon", { min: 1, default: 24 })).to.equal(24);
    expect(a.number("rate")).to.equal(undefined);
  });

  it("decimal keeps the digits as written and limits the fraction", () => {
    expect(parseCommandArgs("demo", ["--fee", "1.500000000"], OPTIONS).decimal("fee", 9, "100")).to.equal("1.500000000");
    expect(parseCommandArgs("demo", [], OPTIONS).decimal("fee", 9, "100")).to.equal("100");
    for (const bad of ["1e3", "-1", "0.0000000001", "abc", "1."]) {
      const e = usageError(() => parseCommandArgs("demo", ["--fee", bad], OPTIONS).decimal("fee", 9, "100"));
      expect(e.input).to.equal("--fee");
      expect(e.message).to.contain(`got '${bad}'`);
    }
  });

  it("oneOf, required", () => {
    const a = parseCommandArgs("demo", ["--model", "gjr"], OPTIONS);
    expect(a.oneOf("model", ["ewma", "garch", "gjr"], "garch")).to.equal("gjr");
    expect(parseCommandArgs("demo", [], OPTIONS).oneOf("model", ["ewma", "garch"], "garch")).to.equal("garch");
    const bad = usageError(() => parseCommandArgs("demo", ["--model", "arma"], OPTIONS).oneOf("model", ["ewma", "garch"]));
    expect(bad.input).to.equal("--model");
    expect(bad.message).to.match(/expected one of ewma, garch, got 'arma'/);
    expect(a.required("model")).to.equal("gjr");
    const missing = usageError(() => a.required("input", "FILE"));
    expect(missing.input).to.equal("--input");
    expect(missing.message).to.match(/--input FILE is required/);
  });
});
