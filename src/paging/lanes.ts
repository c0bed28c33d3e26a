/**
 * Reading lanes: the I/O half of a walk. A lane is one upstream listing inside a walk (a provider route has
 * one, a merged feed one per source). Its position is a keyset in tributary's order; upstream offsets are
 * only hints that make the next read cheap, and every read checks that it did not start past the position.
 */
import { staged } from "../observability/stages";
import {
  type Decision,
  decide,
  type LaneBounds,
  type LaneSummary,
  type LaneView,
  repairs,
  roomIn,
  summarizeBackward,
  type TieGroup,
  type Verdict,
} from "./assemble";
import type { OffsetReader, ReaderWindow } from "./offset-reader";
import { compareItems, type Direction, type Keyed, type Keyset } from "./order";
import {
  firstReads,
  type LaneRead,
  type LaneResult,
  type LaneState,
  LEAN_OPENING,
  leanOpening,
  openingWindow,
  positionAt,
  summarizeLanes,
} from "./positions";

export type { LaneState, Verdict };

export interface Lane<T extends Keyed> {
  /** Names the lane in errors and `page.errors`, e.g. `inkit` or `8x8:acme-ops/<definition>`. */
  name: string;
  /**
   * The lane's source. `pin` is the creation time of the lane's first item when the walk began: a source that
   * can filter by creation time excludes anything newer, so head inserts cannot shift its offsets. `version`
   * binds the walk to the version of what it listed first (see `versionOf`).
   */
  open: (pin: string | null, version: string | null) => OffsetReader<T>;
  /** Whether `open` honours `pin`. */
  pinnable?: boolean;
  /** The version an item belongs to, for upstreams whose default listing follows the latest version. */
  versionOf?: (item: T) => string | null;
  /** Applied by the facade to every item; `stop` means no later item can match. */
  filter?: (item: T) => Verdict;
  /** The filters rule out every item of this lane: it is never called. */
  empty?: boolean;
}

/**
 * How many items one upstream read asks for: aligned blocks, so consecutive pages (and other walks over the
 * same listing) ask the same questions and share cached answers. Small pages use small blocks so an uncached
 * page does not fetch much more than it serves; a silent upstream cap shrinks them further.
 */
const blockFor = (limit: number) => (limit + 3 <= 100 ? 100 : 500);
/**
 * Unshared reads also take up to this many items past their window when the same call can serve them: a page whose
 * last item ties with the next ones then mostly needs no second call for the rest of the tie group.
 */
const TIE_SLACK = 4;
const MAX_ROUNDS = 200;

/** One lane's reads during one request: a contiguous view of its upstream list that grows as needed. */
class LaneReader<T extends Keyed> {
  view: LaneView<T> = { start: 0, items: [], response: [], atEnd: false };
  total: number | null = null;
  /** The upstream's total at this request's first read: a later one that differs means items arrived meanwhile. */
  firstTotal: number | null = null;
  cap: number;
  private responses = 0;
  private source: OffsetReader<T>;
  /** A tie group read again was no longer where it was seen: items arrived during this request's reads. */
  moved = false;
  /** Instants of tie groups already read again as one (or found too large to be). */
  readonly reread = new Set<string>();
  /** Every read so far reported the upstream's same total (see `LaneView.oneSnapshot`). */
  private oneSnapshot = true;

  constructor(
    private readonly lane: Lane<T>,
    private state: LaneState,
    private readonly dir: Direction,
    private readonly size: number,
    /** Reads start at multiples of the block, so walks ask the same questions and share the listing cache. */
    private readonly aligned = true,
    /** Whether another upstream call may start (change detection's per-check budget); reads stop short when not. */
    private readonly canCall: () => boolean = () => true,
    /**
     * Reads exactly what is asked (a lean opening, see `leanOpening`): no whole block for a window at a block's start,
     * no tie slack past it. Unshared only.
     */
    readonly lean = false,
  ) {
    this.cap = state.cap;
    this.source = lane.open(state.head, state.version);
  }

  /** How many items one aligned read asks for: the block, or a learned cap when smaller. */
  private get blockSize() {
    return this.cap > 0 ? Math.min(this.size, this.cap) : this.size;
  }

  /** Head inserts shift a newest-first list; an oldest-first one grows at its end. */
  private get shifts() {
    return this.dir === "desc";
  }

  /**
   * Reads the aligned blocks covering [from, from + count), one upstream read each, so that any page over the
   * same stretch asks the same questions (and the listing cache can answer them). Keeps the view's snapshot
   * consistent: a block older than one already held is read again from the upstream.
   */
  private async readBlocks(from: number, count: number, lazyPast = Number.POSITIVE_INFINITY) {
    // Unshared, a window that starts a block and stays in it still reads that block (one call either way, and a
    // no-cache first page then refreshes the entry others share); any other window is read as it is, in the fewest
    // calls.
    const oneBlock = !this.lean && from % this.blockSize === 0 && count <= this.blockSize;
    const aligned = this.aligned || oneBlock;
    const first = aligned ? Math.floor(from / this.blockSize) * this.blockSize : from;
    const items: T[] = [];
    const ids: number[] = [];
    let pos = first;
    let more = true;
    while (more && pos < from + count && this.canCall()) {
      // Unaligned reads ask for what is left of the window (a page model then finds one page that holds it).
      const asked = aligned ? this.blockSize - (pos % this.blockSize) : from + count - pos;
      // A read of an aligned block is kept for other requests; one of just this page's window is not.
      const read = await this.readWindow(pos, false, asked, aligned || this.lean ? 0 : TIE_SLACK, aligned);
      let id = this.responses++;
      const cuts = new Set(read.cuts ?? []);
      for (const [k, item] of read.items.entries()) {
        if (cuts.has(k)) id = this.responses++;
        items.push(item);
        ids.push(id);
      }
      pos += read.items.length;
      more = read.hasMore && read.items.length > 0;
      // Reading on: a short answer from a list that reports no total (its end, or a silent cap) that reached past
      // `lazyPast` need not be followed at once; the page decides whether it needs this lane's next items at all. (A
      // list with a total said whether more follow: a short answer there is a cap, and the window is read on.)
      if (read.total === null && read.items.length < asked && pos > lazyPast) {
        this.shortAt = pos;
        break;
      }
    }
    return { offset: first, items, more, ids };
  }

  private async readWindow(
    offset: number,
    fresh = false,
    wanted?: number,
    extra = 0,
    keep = true,
  ): Promise<ReaderWindow<T>> {
    // Unaligned, the whole window is asked at once: the source plans the fewest calls for it (the page model on its
    // cap's grid when a cap is known).
    const size = wanted ?? this.blockSize - (offset % this.blockSize);
    const read = await this.source.read(offset, size, this.cap, { fresh, short: true, extra, keep });
    this.cap = read.cap;
    if (read.total !== null && this.total !== null && this.shifts && read.total !== this.total) {
      if (read.total < this.total && !fresh) return this.readWindow(offset, true, wanted, extra, keep);
      // Newer than what is held: head inserts moved everything held down by the difference.
      if (read.total > this.total) this.view.start += read.total - this.total;
    }
    if (read.total !== null) this.total = Math.max(this.total ?? 0, read.total);
    this.firstTotal ??= read.total;
    if (read.moved) this.firstTotal = Number.NaN; // never equal: the read is not consistent with itself
    if (read.total === null || read.moved || read.total !== this.firstTotal)
      this.oneSnapshot = this.view.oneSnapshot = false;
    return read;
  }

  /**
   * Starts the view around a position: `at` is the first offset to read. Items inserted since `at` was
   * measured are newer than the lane's head, so they all landed before it: it moved down by as many.
   */
  async begin(at: number, count: number) {
    let start = Math.max(0, at);
    let got = await this.readBlocks(start, count, start);
    const entered = this.state.key !== null || this.state.head !== null;
    if (this.shifts && entered && this.state.total !== null && this.total !== null && this.total > this.state.total) {
      // Items arrived at the head since the offset was measured: it moved down by as many.
      const moved = start + (this.total - this.state.total);
      if (moved >= got.offset + got.items.length) {
        start = moved;
        got = await this.readBlocks(start, count, start);
      } else start = moved;
    }
    const skip = Math.max(0, start - got.offset);
    this.view = {
      start: got.offset + Math.min(skip, got.items.length),
      items: got.items.slice(skip),
      response: got.ids.slice(skip),
      atEnd: !got.more,
      oneSnapshot: this.oneSnapshot,
    };
    if (start >= got.offset + got.items.length && got.more) await this.forward(count);
  }

  /** Where a short answer from a list without a total ended, not yet followed (its end, or a silent cap). */
  private shortAt = -1;

  /** How many items this request's extensions of the view read so far (see `grow`). */
  private grown = 0;

  /**
   * How many items the next extension asks for: at least `count`, and at least what earlier extensions read in all,
   * so a long tie group (or a lane that must supply most of a page) costs a few calls, not one per `count` items.
   */
  grow(count: number): number {
    const asked = Math.max(count, this.grown);
    this.grown += asked;
    return asked;
  }

  /** Reads further in list order. */
  async forward(count = this.blockSize) {
    const { items } = this.view;
    // Unshared, the view's last tie group (unfinished: that is why the view grows) is read again with what follows,
    // so that it comes whole in one response and needs no call of its own to be read as one (see `settle`).
    const last = items.at(-1)?.created_at;
    const held = this.view.start + items.length;
    let tail = 0;
    // Lean, it is not: that costs an item a call, and a group that does come in two responses is settled as usual.
    while (!this.aligned && !this.lean && tail < items.length && items[items.length - 1 - tail]?.created_at === last)
      tail++;
    // Not where a short answer ended (probably the list's end: only the call that proves it is left), nor a view that
    // is one tie group.
    if (tail === items.length || held === this.shortAt) tail = 0;
    if (tail > 0) {
      items.splice(-tail);
      this.view.response.splice(-tail);
    }
    const end = this.view.start + this.view.items.length;
    // Asking at least as many items as the group has so far doubles what is known of a long group at every call, up
    // to a block (which an upstream's silent cap is likelier to serve whole).
    const got = await this.readBlocks(
      end,
      Math.min(Math.max(count, tail) + tail, Math.max(count, this.blockSize)),
      held,
    );
    const newEnd = this.view.start + this.view.items.length;
    const skip = Math.max(0, newEnd - got.offset);
    this.view.items.push(...got.items.slice(skip));
    this.view.response.push(...got.ids.slice(skip));
    this.view.atEnd = !got.more;
  }

  /** Reads back toward the list's start. */
  async backward(count = this.blockSize) {
    const start = this.view.start;
    if (start === 0) return;
    const from = Math.max(0, start - count);
    const got = await this.readBlocks(from, start - from);
    const keep = Math.max(0, this.view.start - got.offset);
    const before = got.items.slice(0, keep);
    this.view.items.unshift(...before);
    this.view.response.unshift(...got.ids.slice(0, keep));
    this.view.start -= before.length;
    if (before.length === 0 && this.view.start > 0) this.view.start = 0; // defensive: never loop forever
  }

  /** Reads tie groups seen across two responses again, as one response each. */
  async settle(groups: TieGroup[]): Promise<boolean> {
    let changed = false;
    for (const seen of groups) {
      if (this.reread.has(seen.createdAt) || !this.source.ties || !this.canCall()) continue;
      this.reread.add(seen.createdAt);
      const group = await this.source.ties(
        seen.createdAt,
        this.view.start + seen.from,
        this.view.start + seen.to,
        this.cap,
      );
      if (group === "moved") {
        this.moved = true;
        continue;
      }
      const at = this.view.items.findIndex((item) => item.created_at === seen.createdAt);
      const len = this.view.items.filter((item) => item.created_at === seen.createdAt).length;
      // Whole only if it holds every item seen in the group: one it lacks means the answer was cut short.
      const ids = new Set(group?.map((item) => item.id));
      if (!group || this.view.items.slice(at, at + len).some((item) => !ids.has(item.id))) continue; // docs/walks.md#limits
      const id = this.responses++;
      this.view.items.splice(at, len, ...group);
      this.view.response.splice(at, len, ...group.map(() => id));
      changed = true;
    }
    return changed;
  }

  /** What this request read of the lane, as plain values. */
  get read(): LaneRead<T> {
    return { view: this.view, total: this.total, cap: this.cap };
  }

  /** The lane's state at a position, from what this request read. */
  stateAt(key: Keyset | null): LaneState {
    return positionAt(this.read, this.state, key, this.dir, this.lane.versionOf);
  }
}

/** Outgoing connections a Worker holds at once (Workers queue the rest): lanes are read this many at a time. */
const MAX_CONNECTIONS = 6;

/** Runs `task` for every item, at most `width` at a time. */
async function pooled<I>(items: I[], width: number, task: (item: I) => Promise<void>): Promise<void> {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await task(item);
  };
  await Promise.all(Array.from({ length: Math.min(width, queue.length) }, worker));
}

interface PageRead<T extends Keyed> {
  results: LaneResult<T>[];
  decision: Extract<Decision<T>, { ready: true }>;
}

/** How a page reads its lanes. */
export interface LaneReading {
  /**
   * Reads start at aligned blocks, so pages and walks over the same listing ask the same questions and share the
   * listing cache. Without a shared cache, reads ask for exactly the window a page needs.
   */
  aligned: boolean;
  /** Upstream calls the page may make (the subrequest limit): a lean opening needs room for its extensions. */
  room?: number;
}

/**
 * Reads the lanes until the page is certain: the pure `decide` says which lanes must read further. Forward pages of
 * a feed open only the lanes whose next item (`LaneState.next`) could be among the page's; the others join only if
 * `decide` asks for them. Lanes are read `MAX_CONNECTIONS` at a time. A lane that fails either fails the page or,
 * when `tolerate` says so, is left out and keeps its place.
 */
export async function readLanes<T extends Keyed>(
  lanes: Lane<T>[],
  states: (LaneState | null)[],
  limit: number,
  dir: Direction,
  backward: boolean,
  tolerate: (lane: number, error: unknown) => boolean,
  reading: LaneReading = { aligned: true },
): Promise<PageRead<T>> {
  const readers: (LaneReader<T> | undefined)[] = [];
  const results: LaneResult<T>[] = lanes.map(() => ({ kind: "skipped" }));
  /** Runs one read of lane `i`; a failure fails the page, or leaves the lane out when tolerated. */
  const attempt = async (i: number, step: (reader: LaneReader<T>) => Promise<unknown>) => {
    const reader = readers[i];
    if (!reader || results[i]?.kind !== "read") return;
    try {
      await step(reader);
    } catch (error) {
      if (!tolerate(i, error)) throw error;
      results[i] = { kind: "failed", error };
    }
  };
  const opening = firstReads(lanes, states, backward);
  // A first page of many unshared lanes reads a few items of each, then extends the lanes it needs (`leanOpening`).
  const lean =
    reading.aligned || backward
      ? null
      : leanOpening(opening.read.length, limit, reading.room ?? Number.POSITIVE_INFINITY);
  const open = async (i: number, state: LaneState) => {
    const fresh = lean !== null && state.key === null;
    const reader = new LaneReader(lanes[i] as Lane<T>, state, dir, blockFor(limit), reading.aligned, undefined, fresh);
    readers[i] = reader;
    results[i] = { kind: "read", read: reader.read };
    const { from, count } = fresh ? { from: 0, count: lean } : openingWindow(state, limit, backward);
    await attempt(i, (r) => r.begin(from, count));
  };
  for (const [i, next] of opening.deferred) results[i] = { kind: "deferred", next };
  await pooled(opening.read, MAX_CONNECTIONS, (i) => open(i, states[i] as LaneState));

  for (let round = 0; round < MAX_ROUNDS; round++) {
    for (const [i, reader] of readers.entries())
      if (reader && results[i]?.kind === "read") results[i] = { kind: "read", read: reader.read };
    const summaries = staged("assemble", () => summarizeLanes(results, states, lanes, dir, backward));
    // First make sure each view contains its lane's position, and that no tie group mixes two responses.
    const { anchor, settle } = staged("assemble", () => repairs(summaries));
    let repaired = anchor.length > 0;
    await pooled([...anchor, ...settle.map(([i]) => i)], MAX_CONNECTIONS, async (i) => {
      const groups = settle.find(([lane]) => lane === i)?.[1];
      if (!groups) return attempt(i, (r) => (backward ? r.forward() : r.backward()));
      await attempt(i, async (r) => {
        repaired = (await r.settle(groups)) || repaired;
      });
      repaired ||= results[i]?.kind !== "read"; // a lane that failed meanwhile (tolerated) drops out too
    });
    if (repaired) continue;
    const decision = staged("assemble", () => decide(summaries, limit, dir, backward, MAX_CONNECTIONS));
    if (decision.ready) return { results, decision };
    await pooled(decision.extend, MAX_CONNECTIONS, async (i) => {
      if (results[i]?.kind === "deferred") return open(i, states[i] as LaneState);
      await attempt(i, (r) => {
        if (backward) return r.backward(r.grow(Math.max(limit, 1)));
        if (!r.lean) return r.forward(r.grow(limit + 1));
        // A lean lane grows from its opening, never by more than the page could still take of it.
        return r.forward(Math.max(1, Math.min(r.grow(LEAN_OPENING), roomIn(summaries, i, limit, dir))));
      });
    });
  }
  throw new Error("walk did not settle");
}

/** What one read of a lane's newer items found (see `readNewer`). */
interface NewerItems<T extends Keyed> {
  /** The items just newer than the position, oldest first: at most `limit`, with no gap before them. */
  items: T[];
  /** The lane's state after the newest item served (or at its position when none was): hints measured now. */
  state: LaneState;
  /** No newer item is left unread: the read reached the list's head. */
  caughtUp: boolean;
}

/**
 * Change detection's walk: the items of a newest-first lane that are newer than `state.key`, oldest first, at most
 * `limit` of them. It starts where the key's tie group sat (the state's hints; an upstream total says how far head
 * inserts moved it) and reads only toward older items: head inserts during the read shift what comes next down, so
 * items repeat (and are dropped) but none is skipped. Only items that no unread one can precede are served
 * (everything between them and the key was read), so a read that stops early leaves no gap, and the next one
 * continues from the newest item served. Reads ask for just their window (a detection read is never shared through
 * the cache, so a whole aligned block would only be parsed for nothing): the first, which measures how far the key
 * moved, reads only the key's group when the key is at the head, not a block of 100.
 * `callsLeft` bounds the read: when it runs out before anything is certain, no item is served, and the state says
 * where the key's group was seen (or how far down it must sit), so the next read starts there.
 */
export async function readNewer<T extends Keyed>(
  lane: Lane<T>,
  state: LaneState,
  limit: number,
  callsLeft: () => boolean = () => true,
): Promise<NewerItems<T>> {
  const dir: Direction = "desc";
  const bounds: LaneBounds<T> = { key: state.key, head: null, filter: lane.filter };
  let at: LaneState = { ...state, head: null, version: null };
  // The key's group and the `limit + 1` items above it.
  const windowStart = () => Math.max(0, at.at - Math.max(limit + 1, at.reach ?? 0));
  let from = windowStart();
  // How far above the key's group this read had to start (when a tie group there was wider than its window): kept
  // when it stops short, so the next read starts there at once.
  let widened = false;
  const reach = () => (widened ? Math.max(at.reach ?? 0, at.at - from) : at.reach);
  let measured = false;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    // The total is applied here, not by the reader: a first read measures how far the key moved, then the window is
    // read where it now is.
    const reader = new LaneReader(lane, { ...at, total: null }, dir, blockFor(limit), false, callsLeft, true);
    await reader.begin(from, at.at + at.span + 1 - from);
    if (!measured && reader.total !== null && at.total !== null && reader.total !== at.total) {
      measured = true;
      at = { ...at, at: Math.max(0, at.at + reader.total - at.total), total: reader.total };
      from = windowStart();
      continue;
    }
    measured = true;
    at = { ...at, total: reader.total ?? at.total };
    const settled = await settleNewer(reader, bounds, limit, callsLeft);
    if (settled === null) return unserved(reader, state.key, reach());
    let { summary, unsettled } = settled;
    // Items arrived while this read went on: offsets of what it read may disagree, and a group read again by position
    // may have been shifted. Read again where the key now is.
    if ((reader.moved || reader.total !== reader.firstTotal) && callsLeft()) {
      if (at.total !== null && reader.total !== null)
        at = { ...at, at: Math.max(0, at.at + reader.total - at.total), total: reader.total };
      measured = false;
      from = windowStart();
      continue;
    }
    // Out of calls with a group still to read as one (or moved): serve only what is older than it, never a gap.
    if (reader.moved)
      unsettled = summary.mixed.filter((group) => reader.reread.has(group.createdAt)).map((r) => r.createdAt);
    const oldestUnsettled = unsettled.sort()[0];
    if (oldestUnsettled !== undefined)
      summary = { ...summary, candidates: summary.candidates.filter((c) => c.created_at < oldestUnsettled) };
    const atHead = summary.frontier === "none";
    if (oldestUnsettled !== undefined && summary.candidates.length === 0) return unserved(reader, state.key, reach());
    // Not at the head and nothing certain: everything read is one tie group that may continue above. Start higher.
    if (!atHead && summary.candidates.length === 0 && reader.view.start > 0) {
      from = Math.max(0, reader.view.start - (limit + 2) * 2 ** round);
      widened = true;
      if (!callsLeft()) return unserved(reader, state.key, reach());
      continue;
    }
    const items = oldestFirst(summary.candidates, limit);
    const newest = items.at(-1);
    const key: Keyset | null = newest ? [newest.created_at, "\uffff", ""] : state.key;
    return {
      items,
      state: { ...reader.stateAt(key), head: null, version: null },
      caughtUp: atHead && oldestUnsettled === undefined && summary.candidates.length <= limit,
    };
  }
  throw new Error("change detection read did not settle");
}

/**
 * Reads on until what `readNewer` would serve is anchored (the key's group, or the list's end, was reached) and every
 * tie group in it that two responses served was read again as one, while calls last. Returns the summary and the
 * groups still unsettled (calls ran out first); null when calls ran out before anything was anchored.
 */
async function settleNewer<T extends Keyed>(
  reader: LaneReader<T>,
  bounds: LaneBounds<T>,
  limit: number,
  callsLeft: () => boolean,
): Promise<{ summary: LaneSummary<T>; unsettled: string[] } | null> {
  let summary = summarizeBackward(reader.view, bounds, "desc");
  // Tie groups served by two responses, among what this read would serve, that are not read again as one yet.
  let unsettled: string[] = [];
  for (let fix = 0; fix < MAX_ROUNDS; fix++) {
    if (!summary.anchored) {
      if (!callsLeft()) return null;
      await reader.forward();
    } else {
      const served = oldestFirst(summary.candidates, limit + 1).at(-1);
      const mixed = summary.mixed.filter((group) => served === undefined || group.createdAt <= served.created_at);
      unsettled = mixed.filter((group) => !reader.reread.has(group.createdAt)).map((group) => group.createdAt);
      if (unsettled.length === 0 || !callsLeft()) break;
      // A group no single response can hold is read as well as the responses allow (docs/walks.md#limits).
      if (!(await reader.settle(mixed))) {
        unsettled = [];
        break;
      }
    }
    summary = summarizeBackward(reader.view, bounds, "desc");
  }
  return { summary, unsettled };
}

/** The `limit` oldest of some items, oldest first, in tributary's order (newest first lists). */
function oldestFirst<T extends Keyed>(items: T[], limit: number): T[] {
  return [...items]
    .sort((a, b) => compareItems(a, b, "desc"))
    .slice(-limit)
    .reverse();
}

/**
 * Out of calls before anything was certain: nothing is served, and the state says where the key's group sits as far
 * as this read saw (below everything read, when it was not reached), so the next read starts closer to it.
 */
function unserved<T extends Keyed>(reader: LaneReader<T>, key: Keyset | null, reach?: number): NewerItems<T> {
  const seen = reader.stateAt(key);
  // Without a key the lane's end is what must be reached: it lies below everything read.
  const at = key === null ? { at: reader.view.start + reader.view.items.length, span: 0 } : {};
  return { items: [], state: { ...seen, ...at, reach, head: null, version: null }, caughtUp: false };
}
