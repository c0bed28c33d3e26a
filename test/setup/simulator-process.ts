// One simulator pair in a process of its own, for the integration files' pool (simulators.ts): its event loop is the
// pair's alone, so one file's heavy admin call (an organisation of definitions, a burst of 10,000 inserts) holds up
// neither another file's requests nor the test runner. Prints {"inkitUrl","eightByEightUrl"} on one line when ready;
// exits on SIGTERM or when stdin closes (the runner is gone).
import { startSimulators } from "../../simulator/server";

const simulators = await startSimulators({ inkitPort: 0, eightByEightPort: 0 });

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await simulators.close();
  process.exit(0);
}
process.on("SIGTERM", () => void stop());
process.stdin.on("end", () => void stop());
process.stdin.resume();

console.log(JSON.stringify({ inkitUrl: simulators.inkitUrl, eightByEightUrl: simulators.eightByEightUrl }));
