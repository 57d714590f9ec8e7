// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title FeedProxy
/// @notice A Chainlink `AggregatorProxy`-style proxy: protocols read one stable address while its
/// owner moves it from one aggregator to the next. Each aggregator is a phase; the proxy's round id
/// is `phaseId << 64 | aggregatorRoundId`, as Chainlink documents, so round ids keep increasing
/// across phases and `getRoundData` finds the phase (and its aggregator) from the id alone.
///
/// Moving to a new aggregator takes two calls by the owner: `proposeAggregator`, then
/// `confirmAggregator` with the same address, which starts the next phase.
/// WARNING: the owner decides every price the proxy serves; on a fork, whoever impersonates the
/// owner can point the proxy at a replay feed (which is how fork validation takes it over).
contract FeedProxy is AggregatorV3Interface, Ownable {
    uint256 private constant PHASE_OFFSET = 64;

    uint16 private _phaseId;
    AggregatorV3Interface private _proposed;
    mapping(uint16 phaseId => AggregatorV3Interface aggregator) private _phaseAggregators;

    event AggregatorProposed(address indexed current, address indexed proposed);
    event AggregatorConfirmed(address indexed previous, address indexed latest, uint16 phaseId);

    /// @notice Thrown when an aggregator address is zero.
    error FeedProxyZeroAggregator();
    /// @notice Thrown when confirming an address that is not the proposed aggregator.
    error FeedProxyNotProposed(address aggregator, address proposed);
    /// @notice Thrown when a round id names a phase that has no aggregator.
    error FeedProxyUnknownPhase(uint80 roundId, uint16 phaseId);
    /// @notice Thrown when an aggregator answers a round id that does not fit the 64 bits of a phase.
    error FeedProxyRoundIdTooLarge(uint80 aggregatorRoundId);
    /// @notice Thrown when no aggregator is proposed.
    error FeedProxyNoProposal();

    constructor(address aggregator_, address owner_) Ownable(owner_) {
        _setAggregator(aggregator_);
    }

    // ------------------------------------------------------------------ phases

    /// @notice Proposes the next aggregator; `confirmAggregator` makes it current.
    function proposeAggregator(address aggregator_) external onlyOwner {
        if (aggregator_ == address(0)) revert FeedProxyZeroAggregator();
        _proposed = AggregatorV3Interface(aggregator_);
        emit AggregatorProposed(address(_phaseAggregators[_phaseId]), aggregator_);
    }

    /// @notice Starts the next phase with the proposed aggregator.
    function confirmAggregator(address aggregator_) external onlyOwner {
        if (aggregator_ != address(_proposed)) revert FeedProxyNotProposed(aggregator_, address(_proposed));
        delete _proposed;
        _setAggregator(aggregator_);
    }

    function phaseId() external view returns (uint16) {
        return _phaseId;
    }

    function aggregator() external view returns (address) {
        return address(_phaseAggregators[_phaseId]);
    }

    function phaseAggregators(uint16 phaseId_) external view returns (address) {
        return address(_phaseAggregators[phaseId_]);
    }

    function proposedAggregator() external view returns (address) {
        return address(_proposed);
    }

    /// @notice The proposed aggregator's latest round, before it is confirmed (Chainlink's proposed view).
    function proposedLatestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        if (address(_proposed) == address(0)) revert FeedProxyNoProposal();
        return _proposed.latestRoundData();
    }

    // ------------------------------------------------------------------ AggregatorV3Interface

    function decimals() external view returns (uint8) {
        return _phaseAggregators[_phaseId].decimals();
    }

    function description() external view returns (string memory) {
        return _phaseAggregators[_phaseId].description();
    }

    function version() external view returns (uint256) {
        return _phaseAggregators[_phaseId].version();
    }

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        uint16 current = _phaseId;
        (roundId, answer, startedAt, updatedAt, answeredInRound) = _phaseAggregators[current].latestRoundData();
        return (_proxyRoundId(current, roundId), answer, startedAt, updatedAt, _proxyRoundId(current, answeredInRound));
    }

    /// @notice A round of any phase, by proxy round id (`phaseId << 64 | aggregatorRoundId`).
    function getRoundData(uint80 proxyRoundId)
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        uint16 phase = uint16(proxyRoundId >> PHASE_OFFSET);
        AggregatorV3Interface source = _phaseAggregators[phase];
        if (address(source) == address(0)) revert FeedProxyUnknownPhase(proxyRoundId, phase);
        uint64 aggregatorRoundId = uint64(proxyRoundId);
        (, answer, startedAt, updatedAt, answeredInRound) = source.getRoundData(aggregatorRoundId);
        return (proxyRoundId, answer, startedAt, updatedAt, _proxyRoundId(phase, answeredInRound));
    }

    // ------------------------------------------------------------------ internals

    function _setAggregator(address aggregator_) private {
        if (aggregator_ == address(0)) revert FeedProxyZeroAggregator();
        address previous = address(_phaseAggregators[_phaseId]);
        uint16 next = _phaseId + 1;
        _phaseId = next;
        _phaseAggregators[next] = AggregatorV3Interface(aggregator_);
        emit AggregatorConfirmed(previous, aggregator_, next);
    }

    function _proxyRoundId(uint16 phase, uint80 aggregatorRoundId) private pure returns (uint80) {
        if (aggregatorRoundId > type(uint64).max) revert FeedProxyRoundIdTooLarge(aggregatorRoundId);
        return (uint80(phase) << uint80(PHASE_OFFSET)) | aggregatorRoundId;
    }
}
