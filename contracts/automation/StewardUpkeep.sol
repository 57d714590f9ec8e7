// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AutomationCompatibleInterface} from "@chainlink/contracts/src/v0.8/automation/interfaces/AutomationCompatibleInterface.sol";
import {IRiskParameterSteward} from "../interfaces/IRiskParameterSteward.sol";

/// @title StewardUpkeep
/// @notice Chainlink Automation upkeep that applies the steward's queued updates once their delay
/// has passed. `checkUpkeep` only reads; `performUpkeep` trusts nothing it is given: it decodes
/// one update id, asks the steward to re-check every condition as it stands now (queued, not
/// executed, not cancelled, ready, not expired, not frozen, within current bounds and delays)
/// and only then executes. The steward marks the update executed, so it applies once.
/// @dev Must hold the steward's EXECUTOR_ROLE. Anyone may call performUpkeep: the checks, not the
/// caller, make it safe (the Automation forwarder can additionally be set by governance).
contract StewardUpkeep is AutomationCompatibleInterface {
    IRiskParameterSteward public immutable steward;
    /// @notice Most queued updates `checkUpkeep` inspects per call (bounds its gas in simulation).
    uint256 public constant MAX_SCAN = 50;

    /// @notice Emitted after a queued update was applied through this upkeep.
    event UpkeepPerformed(uint256 indexed updateId, address indexed caller);

    /// @notice Thrown when performData is not exactly one abi-encoded uint256.
    error UpkeepInvalidPerformData(uint256 length);
    /// @notice Thrown when checkData is neither empty nor one abi-encoded uint256 (the first id to scan).
    error UpkeepInvalidCheckData(uint256 length);
    /// @notice Thrown when the steward reports the update cannot be executed now; `reason` is the
    /// steward's own custom error.
    error UpkeepNotExecutable(uint256 updateId, bytes reason);

    constructor(IRiskParameterSteward steward_) {
        steward = steward_;
    }

    /// @notice Finds the first queued update (from the id in checkData, or 0) that the steward
    /// would execute now. View only: simulated off-chain by the Automation network.
    function checkUpkeep(bytes calldata checkData) external view override returns (bool upkeepNeeded, bytes memory performData) {
        uint256 start;
        if (checkData.length == 32) start = abi.decode(checkData, (uint256));
        else if (checkData.length != 0) revert UpkeepInvalidCheckData(checkData.length);
        uint256 count = steward.queuedUpdateCount();
        uint256 end = start + MAX_SCAN < count ? start + MAX_SCAN : count;
        for (uint256 id = start; id < end; ++id) {
            if (steward.checkQueued(id).length == 0) return (true, abi.encode(id));
        }
        return (false, "");
    }

    /// @notice Applies the queued update named by performData after re-checking it.
    function performUpkeep(bytes calldata performData) external override {
        if (performData.length != 32) revert UpkeepInvalidPerformData(performData.length);
        uint256 updateId = abi.decode(performData, (uint256));
        bytes memory reason = steward.checkQueued(updateId);
        if (reason.length != 0) revert UpkeepNotExecutable(updateId, reason);
        steward.executeQueued(updateId);
        emit UpkeepPerformed(updateId, msg.sender);
    }
}
