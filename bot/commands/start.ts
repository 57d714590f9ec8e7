import type { Command } from "./types.ts";

// Placeholder until the deploy module lands (replaced in the next commits of this session).
export const command: Command = {
  summary: "deploy everything to the in-process chain and print addresses and roles",
  usage: "riskkeeper start",
  async run(_argv, io) {
    io.stderr("start: not wired yet");
    return 1;
  },
};
