// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IRiskParameterSteward} from "./interfaces/IRiskParameterSteward.sol";

/// @title RiskParameterSteward
/// @notice Holds each market's margin buffers and volatility parameters and lets an automated
/// keeper move them only inside bounds that governance sets: an absolute range, a maximum step per
/// update (absolute or relative, per parameter) and a minimum delay between updates.
///
/// Trust model:
///   - DEFAULT_ADMIN_ROLE (governance, i.e. the TimelockController) creates markets, sets bounds,
///     sets any value inside a parameter's domain, grants roles and sets the queue timing.
///   - KEEPER_ROLE may update parameters within bounds, directly or through the queue.
///   - EXECUTOR_ROLE (the Chainlink Automation upkeep) applies queued updates after their delay;
///     every bound is checked again, as it stands at execution time.
///   - GUARDIAN_ROLE may freeze a market or the whole steward and cancel queued updates. It cannot
///     move a parameter.
///
/// WARNING: a keeper holding KEEPER_ROLE can still move a parameter by one full step per
/// minDelaySeconds in the worst direction; bounds must be chosen with that budget in mind.
contract RiskParameterSteward is IRiskParameterSteward, AccessControl {
    bytes32 public constant KEEPER_ROLE = keccak256("KEEPER_ROLE");
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    bytes32 public constant EXECUTOR_ROLE = keccak256("EXECUTOR_ROLE");

    uint8 public constant INITIAL_MARGIN_BPS = 0;
    uint8 public constant MAINTENANCE_MARGIN_BPS = 1;
    uint8 public constant LIQUIDATION_BUFFER_BPS = 2;
    uint8 public constant VOL_ANNUAL_PPM = 3;
    uint8 public constant ATM_VOL_PPM = 4;
    uint8 public constant SKEW_PPM = 5;
    uint8 public constant CURVATURE_PPM = 6;
    uint8 public constant SVI_A_PPM = 7;
    uint8 public constant SVI_B_PPM = 8;
    uint8 public constant SVI_RHO_PPM = 9;
    uint8 public constant SVI_M_PPM = 10;
    uint8 public constant SVI_SIGMA_PPM = 11;
    uint8 public constant PARAM_COUNT = 12;

    uint256 public constant BPS = 10_000; // 100%
    /// @dev Largest magnitude a ppm parameter may take (1e12 ppm = 1e6 in natural units). Keeping
    /// every value and bound far below 2^127 makes the step arithmetic below overflow-free.
    int256 public constant MAX_ABS_PPM_VALUE = 1e12;
    /// @dev A relative step above 100x the current value is a misconfiguration, not a bound.
    uint256 public constant MAX_RELATIVE_STEP_BPS = 1_000_000;
    uint64 public constant MAX_DELAY_SECONDS = 365 days;

    struct ParamState {
        int256 value;
        uint64 updatedAt;
    }

    struct MarketFlags {
        bool exists;
        bool frozen;
    }

    mapping(bytes32 market => MarketFlags) private _markets;
    mapping(bytes32 market => mapping(uint8 param => ParamState)) private _params;
    mapping(bytes32 market => mapping(uint8 param => Bounds)) private _bounds;
    mapping(uint256 updateId => QueuedUpdate) private _queue;
    uint256 private _queueLength;
    bool private _frozen;
    uint64 private _queueDelaySeconds;
    uint64 private _executionWindowSeconds;

    constructor(address governance, address guardian, uint64 queueDelaySeconds, uint64 executionWindowSeconds) {
        _grantRole(DEFAULT_ADMIN_ROLE, governance);
        _grantRole(GUARDIAN_ROLE, guardian);
        _setQueueTiming(queueDelaySeconds, executionWindowSeconds);
    }

    modifier onlyGuardianOrGovernance() {
        if (!hasRole(GUARDIAN_ROLE, msg.sender) && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert StewardUnauthorized(msg.sender);
        }
        _;
    }

    // ------------------------------------------------------------------ governance

    /// @notice Registers a market. Its parameters start at 0 with no bounds: the keeper can move
    /// nothing until governance sets bounds and initial values.
    function createMarket(bytes32 market) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_markets[market].exists) revert StewardMarketExists(market);
        _markets[market].exists = true;
        emit MarketCreated(market);
    }

    /// @notice Sets the bounds the keeper must respect for one parameter of a market.
    function setBounds(bytes32 market, uint8 param, Bounds calldata bounds) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _requireMarket(market);
        _requireParamId(param);
        if (bounds.min > bounds.max) revert StewardInvertedBounds(param, bounds.min, bounds.max);
        if (bounds.maxStep == 0) revert StewardZeroStep(param);
        if (!_inDomain(param, bounds.min) || !_inDomain(param, bounds.max) || !_stepInDomain(param, bounds)) {
            revert StewardBoundsOutOfDomain(param, bounds.min, bounds.max, bounds.maxStep);
        }
        if (bounds.minDelaySeconds > MAX_DELAY_SECONDS) {
            revert StewardBoundsOutOfDomain(param, bounds.min, bounds.max, bounds.maxStep);
        }
        _bounds[market][param] = bounds;
        emit BoundsSet(market, param, bounds);
    }

    /// @notice Governance may set any value inside a parameter's domain, ignoring the keeper's
    /// range, step and delay (that is what a governance proposal is for). The margin order
    /// (initial >= maintenance) still holds: it is a property of the protocol, not a bound.
    function setParams(bytes32 market, ParamUpdate[] calldata updates, bytes32 evidenceHash)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        _requireMarket(market);
        _revertIfError(_checkShape(updates, evidenceHash));
        for (uint256 i = 0; i < updates.length; ++i) {
            if (!_inDomain(updates[i].param, updates[i].value)) {
                revert StewardValueOutOfDomain(updates[i].param, updates[i].value);
            }
        }
        _revertIfError(_checkMarginOrder(market, updates));
        _apply(market, updates, evidenceHash, UpdateSource.Governance);
    }

    function setQueueTiming(uint64 queueDelaySeconds, uint64 executionWindowSeconds) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setQueueTiming(queueDelaySeconds, executionWindowSeconds);
    }

    // ------------------------------------------------------------------ guardian

    function setMarketFrozen(bytes32 market, bool frozen) external onlyGuardianOrGovernance {
        _requireMarket(market);
        _markets[market].frozen = frozen;
        emit MarketFrozen(market, frozen, msg.sender);
    }

    function setFrozen(bool frozen) external onlyGuardianOrGovernance {
        _frozen = frozen;
        emit StewardFrozen(frozen, msg.sender);
    }

    function cancelQueued(uint256 updateId) external onlyGuardianOrGovernance {
        QueuedUpdate storage queued = _queue[updateId];
        if (updateId >= _queueLength) revert StewardUnknownUpdate(updateId);
        if (queued.status != QueueStatus.Queued) revert StewardUpdateNotQueued(updateId, queued.status);
        queued.status = QueueStatus.Cancelled;
        emit QueuedUpdateCancelled(updateId, msg.sender);
    }

    // ------------------------------------------------------------------ keeper

    /// @inheritdoc IRiskParameterSteward
    function updateParams(bytes32 market, ParamUpdate[] calldata updates, bytes32 evidenceHash)
        external
        onlyRole(KEEPER_ROLE)
    {
        _revertIfError(_checkShape(updates, evidenceHash));
        _revertIfError(_checkKeeperUpdate(market, updates, true));
        _apply(market, updates, evidenceHash, UpdateSource.Keeper);
    }

    /// @inheritdoc IRiskParameterSteward
    /// @dev Checked now as well as at execution, so a doomed update fails at once. The delay is
    /// judged at execution only: the queue exists precisely to wait for it.
    function queueUpdate(bytes32 market, ParamUpdate[] calldata updates, bytes32 evidenceHash)
        external
        onlyRole(KEEPER_ROLE)
        returns (uint256 updateId)
    {
        _revertIfError(_checkShape(updates, evidenceHash));
        _revertIfError(_checkKeeperUpdate(market, updates, false));
        updateId = _queueLength++;
        QueuedUpdate storage queued = _queue[updateId];
        queued.market = market;
        queued.evidenceHash = evidenceHash;
        queued.queuedAt = uint64(block.timestamp);
        queued.executableAt = uint64(block.timestamp) + _queueDelaySeconds;
        queued.expiresAt = queued.executableAt + _executionWindowSeconds;
        queued.status = QueueStatus.Queued;
        for (uint256 i = 0; i < updates.length; ++i) {
            queued.updates.push(updates[i]);
        }
        emit UpdateQueued(updateId, market, evidenceHash, queued.executableAt, queued.expiresAt);
    }

    /// @inheritdoc IRiskParameterSteward
    function checkUpdate(bytes32 market, ParamUpdate[] calldata updates) external view returns (bytes memory reason) {
        reason = _checkShape(updates, bytes32(uint256(1)));
        if (reason.length == 0) reason = _checkKeeperUpdate(market, updates, true);
    }

    // ------------------------------------------------------------------ automation

    /// @inheritdoc IRiskParameterSteward
    function executeQueued(uint256 updateId) external onlyRole(EXECUTOR_ROLE) {
        _revertIfError(_checkQueued(updateId));
        QueuedUpdate storage queued = _queue[updateId];
        // Marked before the parameters change so that no path can apply it twice.
        queued.status = QueueStatus.Executed;
        _apply(queued.market, queued.updates, queued.evidenceHash, UpdateSource.Automation);
        emit QueuedUpdateExecuted(updateId, queued.market);
    }

    /// @inheritdoc IRiskParameterSteward
    function checkQueued(uint256 updateId) external view returns (bytes memory reason) {
        return _checkQueued(updateId);
    }

    function queuedUpdateCount() external view returns (uint256) {
        return _queueLength;
    }

    function getQueuedUpdate(uint256 updateId) external view returns (QueuedUpdate memory) {
        if (updateId >= _queueLength) revert StewardUnknownUpdate(updateId);
        return _queue[updateId];
    }

    // ------------------------------------------------------------------ reads

    function getParam(bytes32 market, uint8 param) external view returns (int256 value, uint64 updatedAt) {
        _requireMarket(market);
        _requireParamId(param);
        ParamState storage state = _params[market][param];
        return (state.value, state.updatedAt);
    }

    /// @notice The three margin buffers in bps, as a protocol reads them on every margin check.
    /// @dev Values are in [0, 10_000] by construction (domain checks on every write).
    function getMarginParams(bytes32 market)
        external
        view
        returns (uint256 initialMarginBps, uint256 maintenanceMarginBps, uint256 liquidationBufferBps)
    {
        _requireMarket(market);
        mapping(uint8 => ParamState) storage params = _params[market];
        initialMarginBps = uint256(params[INITIAL_MARGIN_BPS].value);
        maintenanceMarginBps = uint256(params[MAINTENANCE_MARGIN_BPS].value);
        liquidationBufferBps = uint256(params[LIQUIDATION_BUFFER_BPS].value);
    }

    /// @notice All parameter values of a market, indexed by parameter id.
    function getAllParams(bytes32 market) external view returns (int256[] memory values, uint64[] memory updatedAts) {
        _requireMarket(market);
        values = new int256[](PARAM_COUNT);
        updatedAts = new uint64[](PARAM_COUNT);
        for (uint8 i = 0; i < PARAM_COUNT; ++i) {
            values[i] = _params[market][i].value;
            updatedAts[i] = _params[market][i].updatedAt;
        }
    }

    function getBounds(bytes32 market, uint8 param) external view returns (Bounds memory) {
        _requireMarket(market);
        _requireParamId(param);
        return _bounds[market][param];
    }

    function marketExists(bytes32 market) external view returns (bool) {
        return _markets[market].exists;
    }

    function isFrozen(bytes32 market) external view returns (bool) {
        return _frozen || _markets[market].frozen;
    }

    function stewardFrozen() external view returns (bool) {
        return _frozen;
    }

    function queueTiming() external view returns (uint64 queueDelaySeconds, uint64 executionWindowSeconds) {
        return (_queueDelaySeconds, _executionWindowSeconds);
    }

    // ------------------------------------------------------------------ internals

    function _setQueueTiming(uint64 queueDelaySeconds, uint64 executionWindowSeconds) private {
        if (executionWindowSeconds == 0 || queueDelaySeconds > MAX_DELAY_SECONDS || executionWindowSeconds > MAX_DELAY_SECONDS) {
            revert StewardInvalidQueueTiming(queueDelaySeconds, executionWindowSeconds);
        }
        _queueDelaySeconds = queueDelaySeconds;
        _executionWindowSeconds = executionWindowSeconds;
        emit QueueTimingSet(queueDelaySeconds, executionWindowSeconds);
    }

    function _apply(bytes32 market, ParamUpdate[] memory updates, bytes32 evidenceHash, UpdateSource source) private {
        for (uint256 i = 0; i < updates.length; ++i) {
            ParamState storage state = _params[market][updates[i].param];
            int256 oldValue = state.value;
            state.value = updates[i].value;
            state.updatedAt = uint64(block.timestamp);
            emit ParamUpdated(market, updates[i].param, oldValue, updates[i].value, evidenceHash, source);
        }
    }

    /// @dev Checks that do not depend on the market: non-empty, evidence present, known and
    /// distinct parameter ids.
    function _checkShape(ParamUpdate[] memory updates, bytes32 evidenceHash) private pure returns (bytes memory) {
        if (updates.length == 0) return abi.encodeWithSelector(StewardEmptyUpdate.selector);
        if (evidenceHash == bytes32(0)) return abi.encodeWithSelector(StewardMissingEvidence.selector);
        uint256 seen;
        for (uint256 i = 0; i < updates.length; ++i) {
            uint8 param = updates[i].param;
            if (param >= PARAM_COUNT) return abi.encodeWithSelector(StewardUnknownParam.selector, param);
            if (seen & (1 << param) != 0) return abi.encodeWithSelector(StewardDuplicateParam.selector, param);
            seen |= 1 << param;
        }
        return "";
    }

    /// @dev The keeper's bounds, in the order the off-chain rules mirror (bot/rules/bounds.ts):
    /// frozen, market, configured, range, no-op, step, delay; then the margin order.
    function _checkKeeperUpdate(bytes32 market, ParamUpdate[] memory updates, bool checkDelay)
        private
        view
        returns (bytes memory)
    {
        if (_frozen) return abi.encodeWithSelector(StewardIsFrozen.selector);
        if (!_markets[market].exists) return abi.encodeWithSelector(StewardUnknownMarket.selector, market);
        if (_markets[market].frozen) return abi.encodeWithSelector(StewardMarketIsFrozen.selector, market);
        for (uint256 i = 0; i < updates.length; ++i) {
            bytes memory reason = _checkParamUpdate(market, updates[i], checkDelay);
            if (reason.length != 0) return reason;
        }
        return _checkMarginOrder(market, updates);
    }

    function _checkParamUpdate(bytes32 market, ParamUpdate memory update, bool checkDelay)
        private
        view
        returns (bytes memory)
    {
        uint8 param = update.param;
        Bounds storage bounds = _bounds[market][param];
        if (bounds.maxStep == 0) return abi.encodeWithSelector(StewardParamNotConfigured.selector, market, param);
        int256 value = update.value;
        if (value < bounds.min || value > bounds.max) {
            return abi.encodeWithSelector(StewardValueOutOfRange.selector, market, param, value, bounds.min, bounds.max);
        }
        ParamState storage state = _params[market][param];
        int256 current = state.value;
        if (value == current) return abi.encodeWithSelector(StewardNoChange.selector, market, param);
        // Both values are within MAX_ABS_PPM_VALUE (or [0, 10_000] for bps): the differences and
        // products below fit in uint256 with room to spare.
        uint256 distance = _absDiff(value, current);
        if (bounds.stepKind == StepKind.Absolute) {
            if (distance > bounds.maxStep) {
                return abi.encodeWithSelector(StewardStepTooLarge.selector, market, param, current, value, bounds.maxStep);
            }
        } else {
            if (current == 0) return abi.encodeWithSelector(StewardRelativeStepFromZero.selector, market, param);
            if (distance * BPS > bounds.maxStep * _abs(current)) {
                return abi.encodeWithSelector(StewardStepTooLarge.selector, market, param, current, value, bounds.maxStep);
            }
        }
        if (checkDelay && state.updatedAt != 0) {
            uint64 earliest = state.updatedAt + bounds.minDelaySeconds;
            if (block.timestamp < earliest) {
                return abi.encodeWithSelector(StewardUpdateTooSoon.selector, market, param, state.updatedAt, earliest);
            }
        }
        return "";
    }

    /// @dev Initial margin must never fall below maintenance margin once the update is applied.
    function _checkMarginOrder(bytes32 market, ParamUpdate[] memory updates) private view returns (bytes memory) {
        int256 initialMargin = _params[market][INITIAL_MARGIN_BPS].value;
        int256 maintenanceMargin = _params[market][MAINTENANCE_MARGIN_BPS].value;
        bool touched;
        for (uint256 i = 0; i < updates.length; ++i) {
            if (updates[i].param == INITIAL_MARGIN_BPS) {
                initialMargin = updates[i].value;
                touched = true;
            } else if (updates[i].param == MAINTENANCE_MARGIN_BPS) {
                maintenanceMargin = updates[i].value;
                touched = true;
            }
        }
        if (touched && initialMargin < maintenanceMargin) {
            return abi.encodeWithSelector(StewardMarginOrder.selector, market, initialMargin, maintenanceMargin);
        }
        return "";
    }

    function _checkQueued(uint256 updateId) private view returns (bytes memory) {
        if (updateId >= _queueLength) return abi.encodeWithSelector(StewardUnknownUpdate.selector, updateId);
        QueuedUpdate storage queued = _queue[updateId];
        if (queued.status != QueueStatus.Queued) {
            return abi.encodeWithSelector(StewardUpdateNotQueued.selector, updateId, queued.status);
        }
        if (block.timestamp < queued.executableAt) {
            return abi.encodeWithSelector(StewardUpdateNotReady.selector, updateId, queued.executableAt);
        }
        if (block.timestamp > queued.expiresAt) {
            return abi.encodeWithSelector(StewardUpdateExpired.selector, updateId, queued.expiresAt);
        }
        // Bounds, freezes and delays as they stand now, not as they stood when it was queued.
        return _checkKeeperUpdate(queued.market, queued.updates, true);
    }

    function _requireMarket(bytes32 market) private view {
        if (!_markets[market].exists) revert StewardUnknownMarket(market);
    }

    function _requireParamId(uint8 param) private pure {
        if (param >= PARAM_COUNT) revert StewardUnknownParam(param);
    }

    function _inDomain(uint8 param, int256 value) private pure returns (bool) {
        if (param <= LIQUIDATION_BUFFER_BPS) return value >= 0 && value <= int256(BPS);
        return value >= -MAX_ABS_PPM_VALUE && value <= MAX_ABS_PPM_VALUE;
    }

    function _stepInDomain(uint8 param, Bounds calldata bounds) private pure returns (bool) {
        if (bounds.stepKind == StepKind.Relative) return bounds.maxStep <= MAX_RELATIVE_STEP_BPS;
        uint256 span = param <= LIQUIDATION_BUFFER_BPS ? BPS : 2 * uint256(MAX_ABS_PPM_VALUE);
        return bounds.maxStep <= span;
    }

    function _revertIfError(bytes memory reason) private pure {
        if (reason.length != 0) {
            assembly ("memory-safe") {
                revert(add(reason, 0x20), mload(reason))
            }
        }
    }

    function _abs(int256 x) private pure returns (uint256) {
        return x >= 0 ? uint256(x) : uint256(-x);
    }

    function _absDiff(int256 a, int256 b) private pure returns (uint256) {
        return a >= b ? uint256(a - b) : uint256(b - a);
    }
}
