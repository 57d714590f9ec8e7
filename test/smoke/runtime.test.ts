import { expect } from "chai";
import { network } from "hardhat";

describe("runtime", () => {
  it("runs on Node >= 22.13 with the in-process EDR chain", async () => {
    const [major] = process.versions.node.split(".").map(Number);
    expect(major).to.be.greaterThanOrEqual(22);
    const { ethers } = await network.connect();
    const c = await ethers.deployContract("Placeholder");
    expect(await ethers.provider.getCode(await c.getAddress())).to.not.equal("0x");
  });
});
