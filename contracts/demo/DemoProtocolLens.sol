// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {DemoMarginProtocol} from "./DemoMarginProtocol.sol";

/// @title DemoProtocolLens
/// @notice Read-only batch views over the demo protocol for liquidators and fork validations: one
/// eth_call lists the open positions of a range and which of them are liquidatable now, instead
/// of one call per position.
contract DemoProtocolLens {
    struct PositionHealth {
        uint256 id;
        bool liquidatable;
        int256 equity; // token units at the current price
    }

    /// @notice Health of every open position with id in [fromId, toId), clamped to positionCount.
    /// @dev Reverts like the protocol when its feed is stale or non-positive.
    function openPositionHealth(DemoMarginProtocol protocol, uint256 fromId, uint256 toId)
        external
        view
        returns (PositionHealth[] memory health)
    {
        uint256 count = protocol.positionCount();
        if (toId > count) toId = count;
        if (fromId >= toId) return health;
        PositionHealth[] memory buffer = new PositionHealth[](toId - fromId);
        uint256 n;
        for (uint256 id = fromId; id < toId; ++id) {
            if (!protocol.getPosition(id).open) continue;
            buffer[n++] = PositionHealth({id: id, liquidatable: protocol.isLiquidatable(id), equity: protocol.equityOf(id)});
        }
        health = new PositionHealth[](n);
        for (uint256 i = 0; i < n; ++i) {
            health[i] = buffer[i];
        }
    }
}
