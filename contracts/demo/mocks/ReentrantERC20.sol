// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantERC20
/// @notice TEST ONLY. A collateral token that, once armed, calls back into a target (the demo
/// protocol) from inside its next transfer, and bubbles up the callee's revert. It shows that the
/// protocol's nonReentrant guard stops a token with transfer hooks, which DemoUSD does not have.
contract ReentrantERC20 is ERC20 {
    address private _target;
    bytes private _callData;
    bool private _armed;

    constructor() ERC20("Reentrant USD", "rUSD") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice The next transfer (or transferFrom) calls `target` with `callData`, once.
    function arm(address target, bytes calldata callData) external {
        _target = target;
        _callData = callData;
        _armed = true;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (_armed) {
            _armed = false;
            (bool ok, bytes memory returnData) = _target.call(_callData);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(returnData, 0x20), mload(returnData))
                }
            }
        }
    }
}
