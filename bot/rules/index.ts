// Bounded update rules: pure functions (current, target, bounds, clock, stress) -> proposal, and
// the on-chain steward's bound arithmetic they must respect.
export * from "./bounds.ts";
export * from "./rule.ts";
