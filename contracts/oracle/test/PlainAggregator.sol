// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @title PlainAggregator (test only)
/// @notice A minimal AggregatorV3Interface with no proxy and no replay API, written by its admin
/// one round at a time: what fork validation meets when a protocol reads a foreign feed directly.
/// Its storage deliberately fills the low slots, so a code takeover must reset them.
contract PlainAggregator is AggregatorV3Interface {
    address public admin;
    uint80 private _roundId;
    int256 private _answer;
    uint256 private _updatedAt;
    uint8 private immutable _decimals;
    string private _description;

    /// @notice Thrown when someone other than the admin writes a round.
    error PlainAggregatorNotAdmin(address caller);

    constructor(uint8 decimals_, string memory description_) {
        admin = msg.sender;
        _decimals = decimals_;
        _description = description_;
    }

    function setAnswer(int256 answer_) external {
        if (msg.sender != admin) revert PlainAggregatorNotAdmin(msg.sender);
        _roundId += 1;
        _answer = answer_;
        _updatedAt = block.timestamp;
    }

    function decimals() external view returns (uint8) {
        return _decimals;
    }

    function description() external view returns (string memory) {
        return _description;
    }

    function version() external pure returns (uint256) {
        return 1;
    }

    function getRoundData(uint80 roundId) external view returns (uint80, int256, uint256, uint256, uint80) {
        require(roundId == _roundId && roundId != 0, "no data");
        return (_roundId, _answer, _updatedAt, _updatedAt, _roundId);
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        require(_roundId != 0, "no data");
        return (_roundId, _answer, _updatedAt, _updatedAt, _roundId);
    }
}
