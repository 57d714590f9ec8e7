// Child process for the lock test of test/reliability/crash-loop.test.ts: takes and releases the
// state lock on argv[2] in a tight loop until it is SIGKILLed, so that a kill lands inside
// acquireStateLock far more often than it does in a keeper (which takes the lock once).
import { acquireStateLock } from "../../../bot/keeper/lock.ts";

// Only as a child: the test runner loads every file under test/, and an import must not churn.
if (import.meta.main) {
  const file = process.argv[2];
  if (!file) throw new Error("usage: node test/reliability/support/lock-churn.ts <state file>");
  process.stdout.write("ready\n");
  for (;;) {
    const lock = await acquireStateLock(file);
    await lock.release();
  }
}
