// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IRiskParameterSteward
/// @notice Per-market risk parameters (margin buffers in bps, volatility and smile parameters in ppm)
/// that a keeper may move only inside bounds set by governance.
/// @dev Parameter ids are fixed (see ParamId below) so that protocols read them without a registry.
///
/// Units:
///   - ids 0..2 are basis points (10_000 = 100%); their bounds live in [0, 10_000].
///   - ids 3..11 are parts per million of their natural unit (1_000_000 = 1.0): annualised vol,
///     ATM vol, skew and curvature, and the raw SVI parameters (a, b, rho, m, sigma).
interface IRiskParameterSteward {
    /// @notice How `maxStep` is read: an absolute change in the parameter's own unit, or a change
    /// relative to the current value, in bps of that value.
    enum StepKind {
        Absolute,
        Relative
    }

    /// @notice Who moved a parameter.
    enum UpdateSource {
        Keeper,
        Governance,
        Automation
    }

    enum QueueStatus {
        None,
        Queued,
        Executed,
        Cancelled
    }

    struct Bounds {
        int256 min; // inclusive, parameter units
        int256 max; // inclusive, parameter units
        uint256 maxStep; // per update: parameter units (Absolute) or bps of |current| (Relative)
        uint64 minDelaySeconds; // between two updates of this parameter
        StepKind stepKind;
    }

    struct ParamUpdate {
        uint8 param;
        int256 value;
    }

    struct QueuedUpdate {
        bytes32 market;
        bytes32 evidenceHash;
        uint64 queuedAt;
        uint64 executableAt;
        uint64 expiresAt;
        QueueStatus status;
        ParamUpdate[] updates;
    }

    // ----- events (past tense, emitted right after the state change) -----

    event MarketCreated(bytes32 indexed market);
    event BoundsSet(bytes32 indexed market, uint8 indexed param, Bounds bounds);
    /// @notice Every change of a parameter value, whoever made it, with the hash of the
    /// off-chain evidence bundle that justified it.
    event ParamUpdated(
        bytes32 indexed market,
        uint8 indexed param,
        int256 oldValue,
        int256 newValue,
        bytes32 indexed evidenceHash,
        UpdateSource source
    );
    event MarketFrozen(bytes32 indexed market, bool frozen, address by);
    event StewardFrozen(bool frozen, address by);
    event UpdateQueued(uint256 indexed updateId, bytes32 indexed market, bytes32 evidenceHash, uint64 executableAt, uint64 expiresAt);
    event QueuedUpdateExecuted(uint256 indexed updateId, bytes32 indexed market);
    event QueuedUpdateCancelled(uint256 indexed updateId, address by);
    event QueueTimingSet(uint64 queueDelaySeconds, uint64 executionWindowSeconds);

    // ----- errors -----

    /// @notice Thrown when a market id has not been created by governance.
    error StewardUnknownMarket(bytes32 market);
    /// @notice Thrown when governance creates a market that already exists.
    error StewardMarketExists(bytes32 market);
    /// @notice Thrown when a parameter id is not one of the fixed ids (0..PARAM_COUNT-1).
    error StewardUnknownParam(uint8 param);
    /// @notice Thrown when the keeper moves a parameter for which governance set no bounds.
    error StewardParamNotConfigured(bytes32 market, uint8 param);
    /// @notice Thrown when bounds have min > max.
    error StewardInvertedBounds(uint8 param, int256 min, int256 max);
    /// @notice Thrown when bounds allow no movement at all (maxStep = 0).
    error StewardZeroStep(uint8 param);
    /// @notice Thrown when bounds, a step or a delay lie outside what the parameter can represent.
    error StewardBoundsOutOfDomain(uint8 param, int256 min, int256 max, uint256 maxStep);
    /// @notice Thrown when a value lies outside what the parameter can represent (e.g. bps > 10_000).
    error StewardValueOutOfDomain(uint8 param, int256 value);
    /// @notice Thrown when a keeper value is outside governance's [min, max].
    error StewardValueOutOfRange(bytes32 market, uint8 param, int256 value, int256 min, int256 max);
    /// @notice Thrown when a keeper update moves a parameter by more than maxStep.
    error StewardStepTooLarge(bytes32 market, uint8 param, int256 from, int256 to, uint256 maxStep);
    /// @notice Thrown when a relative step is asked of a parameter whose current value is 0.
    error StewardRelativeStepFromZero(bytes32 market, uint8 param);
    /// @notice Thrown when a keeper update comes before lastUpdatedAt + minDelaySeconds.
    error StewardUpdateTooSoon(bytes32 market, uint8 param, uint64 lastUpdatedAt, uint64 earliest);
    /// @notice Thrown when an update sets a parameter to its current value.
    error StewardNoChange(bytes32 market, uint8 param);
    /// @notice Thrown when one call names the same parameter twice.
    error StewardDuplicateParam(uint8 param);
    /// @notice Thrown when an update carries no parameters.
    error StewardEmptyUpdate();
    /// @notice Thrown when an update carries no evidence hash.
    error StewardMissingEvidence();
    /// @notice Thrown when an update would leave initial margin below maintenance margin.
    error StewardMarginOrder(bytes32 market, int256 initialMarginBps, int256 maintenanceMarginBps);
    /// @notice Thrown when the market is frozen by the guardian or governance.
    error StewardMarketIsFrozen(bytes32 market);
    /// @notice Thrown when the whole steward is frozen.
    error StewardIsFrozen();
    /// @notice Thrown when a queued update id was never issued.
    error StewardUnknownUpdate(uint256 updateId);
    /// @notice Thrown when a queued update is not in the Queued state (already executed or cancelled).
    error StewardUpdateNotQueued(uint256 updateId, QueueStatus status);
    /// @notice Thrown when a queued update is executed before its delay has passed.
    error StewardUpdateNotReady(uint256 updateId, uint64 executableAt);
    /// @notice Thrown when a queued update is executed after its window closed.
    error StewardUpdateExpired(uint256 updateId, uint64 expiresAt);
    /// @notice Thrown when governance sets a zero execution window or an absurd delay.
    error StewardInvalidQueueTiming(uint64 queueDelaySeconds, uint64 executionWindowSeconds);
    /// @notice Thrown when the caller holds neither of the roles a function accepts.
    error StewardUnauthorized(address caller);

    // ----- reads for protocols -----

    function getParam(bytes32 market, uint8 param) external view returns (int256 value, uint64 updatedAt);
    function getMarginParams(bytes32 market)
        external
        view
        returns (uint256 initialMarginBps, uint256 maintenanceMarginBps, uint256 liquidationBufferBps);
    function getBounds(bytes32 market, uint8 param) external view returns (Bounds memory);
    function marketExists(bytes32 market) external view returns (bool);
    function isFrozen(bytes32 market) external view returns (bool);

    // ----- keeper -----

    function updateParams(bytes32 market, ParamUpdate[] calldata updates, bytes32 evidenceHash) external;
    function queueUpdate(bytes32 market, ParamUpdate[] calldata updates, bytes32 evidenceHash)
        external
        returns (uint256 updateId);
    /// @notice Why a keeper update would be rejected now: empty when it would pass, otherwise the
    /// ABI-encoded custom error the update would revert with.
    function checkUpdate(bytes32 market, ParamUpdate[] calldata updates) external view returns (bytes memory reason);

    // ----- automation -----

    function executeQueued(uint256 updateId) external;
    function checkQueued(uint256 updateId) external view returns (bytes memory reason);
    function queuedUpdateCount() external view returns (uint256);
    function getQueuedUpdate(uint256 updateId) external view returns (QueuedUpdate memory);
}
