// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title DemoUSD
/// @notice 18-decimal collateral token of the demo margin protocol. The owner mints it to fund
/// traders and the liquidity pool in local deployments and fork validations.
contract DemoUSD is ERC20, Ownable {
    constructor(address owner_) ERC20("Demo USD", "dUSD") Ownable(owner_) {}

    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
