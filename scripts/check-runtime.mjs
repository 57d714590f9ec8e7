// Fails fast, with the fix, when a script runs on a Node older than Hardhat 3 needs.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  console.error(`riskkeeper needs Node >= 22.13 (found ${process.version}). Run it through npm ` +
    "(npm start, npm test), which uses the Node 22 installed by `npm install` in node_modules/.bin.");
  process.exit(1);
}
