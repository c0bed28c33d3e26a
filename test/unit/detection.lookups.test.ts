import { describe, expect, it } from "vitest";
import { openListsFor } from "../../src/detection/lookups";
import type { WatchedRow } from "../../src/detection/store";

// Which of 8x8's open lists a check reads: every one at the baseline, then the latest version's Runnable list every
// time and one other list in turns, so a quiet check reads two lists however many versions hold open instances.

const row = (version: string | null): WatchedRow => ({
  item_id: `w${version}`,
  status: "running",
  provider_status: "Runnable",
  created_at: "2026-11-30T00:00:00.000000Z",
  version,
  object: null,
  seen_at: "2026-11-30T00:00:00.000000Z",
  checked_at: "2026-11-30T00:00:00.000000Z",
  open: 1,
});

const names = (lists: { version: string | null; status: string }[]) =>
  lists.map((l) => `${l.version ?? "latest"} ${l.status}`);

describe("openListsFor", () => {
  it.each([
    {
      what: "baseline, latest version 3: every list of every version",
      req: { baseline: true, latest: "3", turn: 0, watched: [] },
      lists: ["latest running", "latest suspended", "2 running", "2 suspended", "1 running", "1 suspended"],
    },
    {
      what: "baseline, latest unknown (an empty listing): the latest version's lists",
      req: { baseline: true, turn: 0, watched: [] },
      lists: ["latest running", "latest suspended"],
    },
    {
      what: "nothing watched on older versions: the latest's two lists",
      req: { baseline: false, latest: "3", turn: 0, watched: [row("3")] },
      lists: ["latest running", "latest suspended"],
    },
    {
      what: "older versions watched, turn 0: the latest's Suspended list takes the turn",
      req: { baseline: false, latest: "3", turn: 0, watched: [row("3"), row("1"), row("2")] },
      lists: ["latest running", "latest suspended"],
    },
    {
      what: "turn 1: the newest older version's Runnable list",
      req: { baseline: false, latest: "3", turn: 1, watched: [row("3"), row("1"), row("2")] },
      lists: ["latest running", "2 running"],
    },
    {
      what: "turn 4: version 1's Suspended list",
      req: { baseline: false, latest: "3", turn: 4, watched: [row("1"), row("2")] },
      lists: ["latest running", "1 suspended"],
    },
    {
      what: "turns wrap around",
      req: { baseline: false, latest: "3", turn: 5, watched: [row("1"), row("2")] },
      lists: ["latest running", "latest suspended"],
    },
    {
      what: "latest unknown (state kept before it was): every watched version's lists",
      req: { baseline: false, turn: 7, watched: [row("2"), row(null)] },
      lists: ["latest running", "latest suspended", "2 running", "2 suspended"],
    },
  ])("$what", ({ req, lists }) => {
    expect(names(openListsFor(req))).toEqual(lists);
  });
});
