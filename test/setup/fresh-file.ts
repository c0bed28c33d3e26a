// Integration files share runtimes, one per worker (and its simulator pair), for speed: so before each file, the
// state a runtime of its own would start with (test/support/fresh-state.ts).
import { beforeAll } from "vitest";
import { startFresh } from "../support/fresh-state";

beforeAll(startFresh);
