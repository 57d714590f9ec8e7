// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title RiskTimelock
/// @notice The OpenZeppelin TimelockController, named so that deployments and artifacts carry it.
/// It holds the steward's DEFAULT_ADMIN_ROLE; the Governor is its only proposer.
contract RiskTimelock is TimelockController {
    constructor(uint256 minDelaySeconds, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelaySeconds, proposers, executors, admin)
    {}
}
