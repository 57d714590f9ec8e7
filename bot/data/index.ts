// Market data: loaders, the normaliser and its report, and the Chainlink on-chain reader.
export { openCsv, splitCsvLine, findColumn, type CsvFile, type CsvRow, type CsvReadOptions } from "./csv.ts";
export { detectTimeFormat, parseTime, parseTimeArg, isoTime, parseInterval, formatInterval, type TimeFormat } from "./time.ts";
export { Float64Column, lastIndexAtOrBefore } from "./columns.ts";
export {
  PriceNormaliser,
  type PriceKind, type PriceSeries, type NormaliseOptions, type NormaliseReport, type GapEntry, type RejectedEntry, type BadTickEntry, type LineAt,
} from "./normalise.ts";
export { loadPrices, normalisePriceFile, TIME_COLUMNS, type LoadPricesOptions, type LoadedPrices } from "./prices.ts";
export {
  loadRounds, decodeRoundId, encodeRoundId, scaleAnswer, compareDailySamples, type SampleComparison,
  type RoundSeries, type RoundsReport, type PhaseSummary, type LoadRoundsOptions,
} from "./rounds.ts";
export {
  loadReturns, loadDvol, loadGasDaily, sniffDataFile,
  type ReturnsSeries, type ReturnsReport, type LoadReturnsOptions, type DataFileKind,
} from "./series.ts";
export { loadLiquidations, type Liquidation, type LiquidationsReport } from "./liquidations.ts";
export {
  PoliteRpc, httpTransport, providerTransport, systemClock, RpcTransportError, RpcResponseError,
  type Clock, type RpcTransport, type PoliteRpcOptions, type RpcStats,
} from "./rpc.ts";
export {
  ChainlinkReader, readFeedHealth, readBaseFees, baseFeeCongestion, AGGREGATOR_V3_ABI,
  type FeedRound, type HistoryResult, type FeedHealth, type BaseFeeHistory,
} from "./chainlink-reader.ts";
export { watchFeed, judgeFeed, type FeedSnapshot, type WatcherOptions, type WatchResult } from "./watcher.ts";
export { generatedHourlySeries, type GeneratedSeriesOptions } from "./generated.ts";
