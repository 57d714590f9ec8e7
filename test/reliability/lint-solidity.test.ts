// scripts/lint-solidity.ts: every rule fires on a contract written to break it (so a clean run
// over contracts/ means something), and contracts/ has no finding without a written reason.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { lintSolidity } from "../../scripts/lint-solidity.ts";
import { tempDir } from "../keeper/helpers.ts";

const BAD = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

interface IToken { function transfer(address to, uint256 amount) external returns (bool); }

contract Bad {
    address public owner;
    uint256 public total;
    mapping(address => uint256) public balances;
    IToken public token;

    modifier onlyOwner() { require(msg.sender == owner, "owner"); _; }

    function setTotal(uint256 t) external onlyOwner { total = t; }

    function withdraw(uint256 amount) external {
        require(tx.origin == owner, "origin");
        token.transfer(msg.sender, amount);
        balances[msg.sender] -= amount;
    }

    function raw(address target) external {
        (bool ok,) = target.call("");
        ok;
        unchecked { total += 1; }
        assembly { let x := 1 }
    }
}
`;

describe("lint:sol (scripts/lint-solidity.ts)", () => {
  it("flags each rule on a contract written to break it", function () {
    this.timeout(60_000);
    const t = tempDir("riskkeeper-lint-");
    try {
      writeFileSync(path.join(t.dir, "Bad.sol"), BAD);
      const findings = lintSolidity(t.dir, t.dir);
      const rules = [...new Set(findings.map((f) => f.rule))].sort();
      console.log(`      bad contract: ${findings.length} findings: ${rules.join(", ")}`);
      expect(rules).to.include.members(["floating-pragma", "tx-origin", "call-before-write", "admin-no-event", "low-level-call", "unchecked-no-comment", "assembly"]);
      expect(findings.find((f) => f.rule === "call-before-write")!.message).to.contain("balances");
      expect(findings.find((f) => f.rule === "admin-no-event")!.subject).to.equal("Bad.setTotal");
    } finally {
      t.cleanup();
    }
  });

  it("contracts/: no open finding, no stale allow entry (exit 0)", function () {
    this.timeout(60_000);
    const out = execFileSync(process.execPath, ["scripts/lint-solidity.ts"], { encoding: "utf8" });
    const summary = out.trim().split("\n").pop()!;
    console.log(`      ${summary}`);
    expect(summary).to.match(/, 0 open$/);
  });
});
