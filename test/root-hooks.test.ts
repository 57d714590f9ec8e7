// Root-level hooks for the whole suite (mocha runs root hooks of every file before any test).
//
// @nomicfoundation/hardhat-ethers-chai-matchers installs itself on the first network connection
// and overrides chai's closeTo/approximately so that any number argument is converted to a bigint:
// `expect(0.2).to.be.closeTo(0.21, 1e-3)` then throws "0.001 is not an integer", but only when a
// contract test happened to run first. Here the plugin is installed up front, deterministically,
// and plain-number closeTo is routed back to float arithmetic; bigints still go to the plugin.
import * as chai from "chai";
import { network } from "hardhat";

before(async () => {
  const connection = await network.create();
  await connection.close();
  chai.use((api, utils) => {
    for (const name of ["closeTo", "approximately"]) {
      api.Assertion.overwriteMethod(name, (_super: (...args: unknown[]) => unknown) =>
        function (this: Chai.AssertionStatic, ...args: unknown[]) {
          const actual = utils.flag(this, "object");
          const [expected, delta] = args;
          if (typeof actual === "number" && typeof expected === "number" && typeof delta === "number") {
            this.assert(
              Math.abs(actual - expected) <= delta,
              `expected #{this} to be close to ${expected} +/- ${delta}`,
              `expected #{this} not to be close to ${expected} +/- ${delta}`,
              expected,
              actual,
            );
            return;
          }
          return _super.apply(this, args);
        });
    }
  });
});
