// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IRiskParameterSteward} from "../interfaces/IRiskParameterSteward.sol";

/// @title DemoMarginProtocol
/// @notice A small leveraged long/short market that a keeper protects. It prices positions with a
/// Chainlink feed (rejecting stale and non-positive answers) and reads its margin buffers from the
/// RiskParameterSteward on every check:
///   - open:       collateral >= notional * initialMarginBps
///   - liquidate:  equity < notional * maintenanceMarginBps; anyone may liquidate and earns up to
///                 notional * liquidationBufferBps out of the remaining equity;
///   - bad debt:   a loss beyond the position's collateral cannot be collected: it is recorded in
///                 `totalBadDebt`. Fork validations judge parameters by that number.
/// The liquidity pool is every trader's counterparty: it receives losses and pays gains.
/// @dev Amounts are in collateral token units (18 decimals); prices in feed units.
contract DemoMarginProtocol is ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint256 public constant BPS = 10_000;

    /// @notice One open position's health at the current price (see `positionHealth`).
    struct PositionHealth {
        uint256 id;
        bool liquidatable;
        int256 equity; // token units
        uint256 notional; // token units
    }

    struct Position {
        address trader;
        bool isLong;
        bool open;
        uint256 collateral; // token units
        uint256 sizeBase; // base asset, 1e18 = one unit
        uint256 entryPrice; // feed units
    }

    IRiskParameterSteward public immutable steward;
    bytes32 public immutable marketId;
    AggregatorV3Interface public immutable feed;
    IERC20 public immutable collateralToken;
    uint256 public immutable maxOracleAgeSeconds;
    uint256 private immutable _priceScale; // 10 ** feed decimals

    Position[] private _positions;
    uint256 public poolBalance;
    uint256 public totalBadDebt;
    uint256 public openPositionCount;

    event PoolFunded(address indexed from, uint256 amount);
    event PositionOpened(uint256 indexed id, address indexed trader, bool isLong, uint256 collateral, uint256 notional, uint256 price);
    event CollateralAdded(uint256 indexed id, uint256 amount);
    event PositionClosed(uint256 indexed id, uint256 price, int256 equity);
    event PositionLiquidated(
        uint256 indexed id, address indexed liquidator, uint256 price, int256 equity, uint256 reward, uint256 badDebt
    );

    /// @notice Thrown when the feed answers zero or a negative price.
    error ProtocolInvalidPrice(int256 answer);
    /// @notice Thrown when the feed's last update is older than maxOracleAgeSeconds.
    error ProtocolStalePrice(uint256 updatedAt, uint256 maxOracleAgeSeconds);
    /// @notice Thrown when an amount that must be positive is zero.
    error ProtocolZeroAmount();
    /// @notice Thrown when the steward holds no initial or maintenance margin for the market yet.
    error ProtocolMarketNotConfigured(bytes32 marketId);
    /// @notice Thrown when collateral is below notional * initialMarginBps.
    error ProtocolInsufficientMargin(uint256 requiredCollateral, uint256 collateral);
    /// @notice Thrown when a position id does not exist or is already closed.
    error ProtocolPositionNotOpen(uint256 id);
    /// @notice Thrown when someone other than the trader closes or tops up a position.
    error ProtocolNotTrader(uint256 id, address caller);
    /// @notice Thrown when liquidating a position that still meets maintenance margin.
    error ProtocolNotLiquidatable(uint256 id, int256 equity, uint256 maintenanceRequired);
    /// @notice Thrown when closing a position that is below maintenance (it must be liquidated).
    error ProtocolPositionLiquidatable(uint256 id);
    /// @notice Thrown when the pool cannot pay a trader's gain.
    error ProtocolPoolInsolvent(uint256 owed, uint256 poolBalance);

    constructor(
        IRiskParameterSteward steward_,
        bytes32 marketId_,
        AggregatorV3Interface feed_,
        IERC20 collateralToken_,
        uint256 maxOracleAgeSeconds_
    ) {
        steward = steward_;
        marketId = marketId_;
        feed = feed_;
        collateralToken = collateralToken_;
        maxOracleAgeSeconds = maxOracleAgeSeconds_;
        _priceScale = 10 ** uint256(feed_.decimals());
    }

    // ------------------------------------------------------------------ actions

    function fundPool(uint256 amount) external nonReentrant {
        if (amount == 0) revert ProtocolZeroAmount();
        poolBalance += amount;
        collateralToken.safeTransferFrom(msg.sender, address(this), amount);
        emit PoolFunded(msg.sender, amount);
    }

    /// @notice Opens a position of `notional` (token units at the current price) with `collateral`.
    function openPosition(bool isLong, uint256 collateral, uint256 notional) external nonReentrant returns (uint256 id) {
        if (collateral == 0 || notional == 0) revert ProtocolZeroAmount();
        uint256 price = currentPrice();
        (uint256 initialMarginBps, uint256 maintenanceMarginBps,) = steward.getMarginParams(marketId);
        if (initialMarginBps == 0 || maintenanceMarginBps == 0) revert ProtocolMarketNotConfigured(marketId);
        uint256 required = _mulDivUp(notional, initialMarginBps, BPS);
        if (collateral < required) revert ProtocolInsufficientMargin(required, collateral);
        id = _positions.length;
        _positions.push(
            Position({
                trader: msg.sender,
                isLong: isLong,
                open: true,
                collateral: collateral,
                sizeBase: notional * _priceScale / price,
                entryPrice: price
            })
        );
        ++openPositionCount;
        collateralToken.safeTransferFrom(msg.sender, address(this), collateral);
        emit PositionOpened(id, msg.sender, isLong, collateral, notional, price);
    }

    function addCollateral(uint256 id, uint256 amount) external nonReentrant {
        Position storage position = _openPosition(id);
        if (position.trader != msg.sender) revert ProtocolNotTrader(id, msg.sender);
        if (amount == 0) revert ProtocolZeroAmount();
        position.collateral += amount;
        collateralToken.safeTransferFrom(msg.sender, address(this), amount);
        emit CollateralAdded(id, amount);
    }

    /// @notice The trader closes a healthy position and receives its equity.
    function closePosition(uint256 id) external nonReentrant {
        Position storage position = _openPosition(id);
        if (position.trader != msg.sender) revert ProtocolNotTrader(id, msg.sender);
        uint256 price = currentPrice();
        (, uint256 maintenanceMarginBps,) = steward.getMarginParams(marketId);
        int256 equity = _equity(position, price);
        if (_belowMaintenance(position, price, equity, maintenanceMarginBps)) revert ProtocolPositionLiquidatable(id);
        uint256 payout = uint256(equity); // equity > 0 here: a non-positive equity is below maintenance
        _settleWithPool(position.collateral, payout);
        position.open = false;
        --openPositionCount;
        collateralToken.safeTransfer(position.trader, payout);
        emit PositionClosed(id, price, equity);
    }

    /// @notice Liquidates a position below maintenance margin. The liquidator earns up to
    /// notional * liquidationBufferBps from the remaining equity; the trader gets what is left;
    /// a negative equity is recorded as bad debt.
    function liquidate(uint256 id) external nonReentrant returns (uint256 reward, uint256 badDebt) {
        Position storage position = _openPosition(id);
        uint256 price = currentPrice();
        (, uint256 maintenanceMarginBps, uint256 liquidationBufferBps) = steward.getMarginParams(marketId);
        int256 equity = _equity(position, price);
        if (!_belowMaintenance(position, price, equity, maintenanceMarginBps)) {
            revert ProtocolNotLiquidatable(id, equity, _maintenanceRequired(position, price, maintenanceMarginBps));
        }
        uint256 refund;
        if (equity > 0) {
            uint256 penalty = _notional(position, price) * liquidationBufferBps / BPS;
            reward = penalty < uint256(equity) ? penalty : uint256(equity);
            refund = uint256(equity) - reward;
            _settleWithPool(position.collateral, uint256(equity));
        } else {
            badDebt = uint256(-equity);
            totalBadDebt += badDebt;
            poolBalance += position.collateral; // all of it: the rest of the loss is uncollectable
        }
        position.open = false;
        --openPositionCount;
        if (reward != 0) collateralToken.safeTransfer(msg.sender, reward);
        if (refund != 0) collateralToken.safeTransfer(position.trader, refund);
        emit PositionLiquidated(id, msg.sender, price, equity, reward, badDebt);
    }

    // ------------------------------------------------------------------ reads

    /// @notice The feed's latest price, rejecting non-positive and stale answers.
    function currentPrice() public view returns (uint256) {
        (, int256 answer,, uint256 updatedAt,) = feed.latestRoundData();
        if (answer <= 0) revert ProtocolInvalidPrice(answer);
        if (updatedAt + maxOracleAgeSeconds < block.timestamp) revert ProtocolStalePrice(updatedAt, maxOracleAgeSeconds);
        return uint256(answer);
    }

    function positionCount() external view returns (uint256) {
        return _positions.length;
    }

    function getPosition(uint256 id) external view returns (Position memory) {
        if (id >= _positions.length) revert ProtocolPositionNotOpen(id);
        return _positions[id];
    }

    /// @notice Equity (collateral plus unrealised PnL) of a position at the current price.
    function equityOf(uint256 id) external view returns (int256) {
        Position storage position = _openPosition(id);
        return _equity(position, currentPrice());
    }

    /// @notice Health of every open position with id in [fromId, toId) (clamped to positionCount),
    /// read with one oracle and one steward call: what a liquidator scans each block.
    function positionHealth(uint256 fromId, uint256 toId) external view returns (PositionHealth[] memory health) {
        if (toId > _positions.length) toId = _positions.length;
        if (fromId >= toId) return health;
        uint256 price = currentPrice();
        (, uint256 maintenanceMarginBps,) = steward.getMarginParams(marketId);
        PositionHealth[] memory buffer = new PositionHealth[](toId - fromId);
        uint256 n;
        for (uint256 id = fromId; id < toId; ++id) {
            Position storage position = _positions[id];
            if (!position.open) continue;
            int256 equity = _equity(position, price);
            buffer[n++] = PositionHealth({
                id: id,
                liquidatable: _belowMaintenance(position, price, equity, maintenanceMarginBps),
                equity: equity,
                notional: _notional(position, price)
            });
        }
        health = new PositionHealth[](n);
        for (uint256 i = 0; i < n; ++i) {
            health[i] = buffer[i];
        }
    }

    function isLiquidatable(uint256 id) external view returns (bool) {
        if (id >= _positions.length || !_positions[id].open) return false;
        Position storage position = _positions[id];
        uint256 price = currentPrice();
        (, uint256 maintenanceMarginBps,) = steward.getMarginParams(marketId);
        return _belowMaintenance(position, price, _equity(position, price), maintenanceMarginBps);
    }

    // ------------------------------------------------------------------ internals

    function _openPosition(uint256 id) private view returns (Position storage position) {
        if (id >= _positions.length || !_positions[id].open) revert ProtocolPositionNotOpen(id);
        return _positions[id];
    }

    function _notional(Position storage position, uint256 price) private view returns (uint256) {
        return position.sizeBase * price / _priceScale;
    }

    function _equity(Position storage position, uint256 price) private view returns (int256) {
        // Prices are below 2^128 and sizes below 2^128 in any sane market: the product fits.
        int256 move = int256(price) - int256(position.entryPrice);
        if (!position.isLong) move = -move;
        int256 product = int256(position.sizeBase) * move;
        int256 pnl = product / int256(_priceScale);
        // Solidity truncates toward zero; a loss is rounded away from zero instead, in the
        // protocol's favour.
        if (product < 0 && product % int256(_priceScale) != 0) pnl -= 1;
        return int256(position.collateral) + pnl;
    }

    function _maintenanceRequired(Position storage position, uint256 price, uint256 maintenanceMarginBps)
        private
        view
        returns (uint256)
    {
        return _mulDivUp(_notional(position, price), maintenanceMarginBps, BPS);
    }

    function _belowMaintenance(Position storage position, uint256 price, int256 equity, uint256 maintenanceMarginBps)
        private
        view
        returns (bool)
    {
        if (equity <= 0) return true;
        return uint256(equity) < _maintenanceRequired(position, price, maintenanceMarginBps);
    }

    /// @dev The pool takes the position's collateral and pays out `payout` (its equity).
    function _settleWithPool(uint256 collateral, uint256 payout) private {
        uint256 available = poolBalance + collateral;
        if (payout > available) revert ProtocolPoolInsolvent(payout, poolBalance);
        poolBalance = available - payout;
    }

    /// @dev Rounds up: margin requirements round in the protocol's favour.
    function _mulDivUp(uint256 a, uint256 b, uint256 denominator) private pure returns (uint256) {
        uint256 product = a * b;
        return product == 0 ? 0 : (product - 1) / denominator + 1;
    }
}
