// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title ReplayAggregator
/// @notice A Chainlink AggregatorV3Interface that serves recorded rounds, so that history can be
/// played through any protocol that reads a Chainlink feed, directly or behind an existing proxy
/// (on a fork, the proxy's owner points the proxy at this contract).
///
/// Rounds are loaded by the owner in batches (ids strictly increasing, timestamps non-decreasing)
/// and become visible in one of two ways:
///   - cursor mode (default): the owner publishes the first `count` rounds with `publishThrough`;
///   - time mode: a round is visible once its served `updatedAt` is not after `block.timestamp`,
///     so mining blocks at the scenario's timestamps plays the feed at its own cadence.
/// Served timestamps are the recorded ones plus `timeOffset` seconds, so that a 2020 crash can be
/// replayed on a chain whose clock is in 2026. Answers are served exactly as recorded, including
/// zero or negative ones: a replay must be able to reproduce a faulty feed.
contract ReplayAggregator is AggregatorV3Interface, Ownable {
    struct Round {
        uint80 roundId;
        uint64 startedAt;
        uint64 updatedAt;
        int256 answer;
    }

    uint8 private immutable _decimals;
    string private _description;
    Round[] private _rounds;
    mapping(uint80 roundId => uint256 indexPlusOne) private _indexOf;
    uint256 private _published;
    bool private _timeDriven;
    int256 private _timeOffset;
    /// @dev Smallest recorded startedAt loaded so far (startedAt is not ordered across rounds, only
    /// updatedAt is): the offset may not move it below zero. Meaningless while no round is loaded.
    uint64 private _minStartedAt;

    event RoundsLoaded(uint256 firstIndex, uint256 count, uint80 lastRoundId);
    event RoundsPublished(uint256 count, uint80 latestRoundId);
    event ModeSet(bool timeDriven, int256 timeOffsetSeconds);

    /// @notice Thrown when the batch arrays differ in length.
    error ReplayLengthMismatch(uint256 ids, uint256 answers, uint256 startedAts, uint256 updatedAts);
    /// @notice Thrown when a round id is zero or not greater than the previous one.
    error ReplayRoundIdNotIncreasing(uint80 previous, uint80 next);
    /// @notice Thrown when a round is older than the previous one or started after it was updated.
    error ReplayBadTimestamps(uint80 roundId, uint256 startedAt, uint256 updatedAt, uint256 previousUpdatedAt);
    /// @notice Thrown when publishing more rounds than are loaded, or fewer than already published.
    error ReplayBadPublishCount(uint256 requested, uint256 published, uint256 loaded);
    /// @notice Thrown when no round is visible yet (Chainlink feeds revert the same way).
    error ReplayNoData();
    /// @notice Thrown when a requested round is unknown or not visible yet.
    error ReplayRoundNotFound(uint80 roundId);
    /// @notice Thrown when the time offset would make a served timestamp negative.
    error ReplayBadOffset(int256 timeOffsetSeconds);

    constructor(uint8 decimals_, string memory description_, address owner_) Ownable(owner_) {
        _decimals = decimals_;
        _description = description_;
    }

    // ------------------------------------------------------------------ loading and playback

    /// @notice Appends recorded rounds. Timestamps are unix seconds as recorded.
    function loadRounds(
        uint80[] calldata roundIds,
        int256[] calldata answers,
        uint256[] calldata startedAts,
        uint256[] calldata updatedAts
    ) external onlyOwner {
        uint256 n = roundIds.length;
        if (answers.length != n || startedAts.length != n || updatedAts.length != n) {
            revert ReplayLengthMismatch(n, answers.length, startedAts.length, updatedAts.length);
        }
        uint256 first = _rounds.length;
        for (uint256 i = 0; i < n; ++i) {
            _append(roundIds[i], answers[i], startedAts[i], updatedAts[i]);
        }
        emit RoundsLoaded(first, n, n == 0 ? 0 : roundIds[n - 1]);
    }

    /// @notice Cursor mode: makes the first `count` loaded rounds visible. Only moves forward.
    function publishThrough(uint256 count) external onlyOwner {
        if (count > _rounds.length || count < _published) revert ReplayBadPublishCount(count, _published, _rounds.length);
        _published = count;
        emit RoundsPublished(count, count == 0 ? 0 : _rounds[count - 1].roundId);
    }

    /// @notice Chooses cursor or time mode and the offset added to every served timestamp.
    function setMode(bool timeDriven, int256 timeOffsetSeconds) external onlyOwner {
        if (_rounds.length != 0 && int256(uint256(_minStartedAt)) + timeOffsetSeconds < 0) {
            revert ReplayBadOffset(timeOffsetSeconds);
        }
        _timeDriven = timeDriven;
        _timeOffset = timeOffsetSeconds;
        emit ModeSet(timeDriven, timeOffsetSeconds);
    }

    // ------------------------------------------------------------------ AggregatorV3Interface

    function decimals() external view returns (uint8) {
        return _decimals;
    }

    function description() external view returns (string memory) {
        return _description;
    }

    function version() external pure returns (uint256) {
        return 4;
    }

    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        uint256 indexPlusOne = _indexOf[roundId];
        if (indexPlusOne == 0 || indexPlusOne > _visibleCount()) revert ReplayRoundNotFound(roundId);
        return _serve(indexPlusOne - 1);
    }

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        uint256 visible = _visibleCount();
        if (visible == 0) revert ReplayNoData();
        return _serve(visible - 1);
    }

    /// @notice AggregatorInterface (v2) compatibility: the latest visible round id. Readers walking a
    /// proxy's history use it on a previous phase's aggregator to find where that phase ended.
    function latestRound() external view returns (uint256) {
        uint256 visible = _visibleCount();
        if (visible == 0) revert ReplayNoData();
        return _rounds[visible - 1].roundId;
    }

    // ------------------------------------------------------------------ reads

    function loadedCount() external view returns (uint256) {
        return _rounds.length;
    }

    /// @notice Id of the last loaded round (0 when none): the next batch must start above it.
    function lastLoadedRoundId() external view returns (uint80) {
        return _rounds.length == 0 ? 0 : _rounds[_rounds.length - 1].roundId;
    }

    function visibleCount() external view returns (uint256) {
        return _visibleCount();
    }

    function mode() external view returns (bool timeDriven, int256 timeOffsetSeconds) {
        return (_timeDriven, _timeOffset);
    }

    // ------------------------------------------------------------------ internals

    function _append(uint80 id, int256 answer, uint256 startedAt, uint256 updatedAt) private {
        uint256 length = _rounds.length;
        uint80 previousId = length == 0 ? 0 : _rounds[length - 1].roundId;
        uint256 previousUpdatedAt = length == 0 ? 0 : _rounds[length - 1].updatedAt;
        if (id <= previousId) revert ReplayRoundIdNotIncreasing(previousId, id);
        if (updatedAt < previousUpdatedAt || startedAt > updatedAt || updatedAt > type(uint64).max) {
            revert ReplayBadTimestamps(id, startedAt, updatedAt, previousUpdatedAt);
        }
        // A round loaded after setMode must not be served at a negative time either: the cast in
        // _shift would wrap it to a number near 2^256.
        if (int256(startedAt) + _timeOffset < 0) revert ReplayBadOffset(_timeOffset);
        if (length == 0 || startedAt < _minStartedAt) _minStartedAt = uint64(startedAt);
        // Both casts are safe: startedAt <= updatedAt <= type(uint64).max was checked above.
        _rounds.push(Round({roundId: id, startedAt: uint64(startedAt), updatedAt: uint64(updatedAt), answer: answer}));
        _indexOf[id] = length + 1;
    }

    function _serve(uint256 index) private view returns (uint80, int256, uint256, uint256, uint80) {
        Round storage r = _rounds[index];
        return (r.roundId, r.answer, _shift(r.startedAt), _shift(r.updatedAt), r.roundId);
    }

    function _shift(uint64 timestamp) private view returns (uint256) {
        return uint256(int256(uint256(timestamp)) + _timeOffset);
    }

    /// @dev In time mode, the number of rounds whose served updatedAt <= block.timestamp, found by
    /// binary search (updatedAt is non-decreasing by construction).
    function _visibleCount() private view returns (uint256) {
        if (!_timeDriven) return _published;
        int256 cutoff = int256(block.timestamp) - _timeOffset;
        if (cutoff < 0) return 0;
        uint256 lo = 0;
        uint256 hi = _rounds.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (int256(uint256(_rounds[mid].updatedAt)) <= cutoff) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
