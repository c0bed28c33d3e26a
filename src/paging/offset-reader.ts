/** What an offset reader served for one window. */
export interface ReaderWindow<T> {
  /** The items at [offset, offset + items.length), in the upstream's order. */
  items: T[];
  /** Whether an item exists at offset + items.length. */
  hasMore: boolean;
  /** The upstream's count of all items, or null where it has none. */
  total: number | null;
  /** A page-size cap learned from the upstream (0: none known), carried in the cursor: reads are aligned to it. */
  cap: number;
  /** Indices in `items` where another upstream response begins, when one read took several. */
  cuts?: number[];
  /** The upstream's total changed between the responses of this read: items arrived meanwhile, offsets moved. */
  moved?: boolean;
}

export interface ReadOptions {
  /** Skip the listing cache: the caller saw that a cached window is older than another it holds. */
  fresh?: boolean;
  /** Stop at the first upstream response that serves less than asked (a cap), rather than reading on. */
  short?: boolean;
  /**
   * Items past the window the read may also return when they cost no extra call: a window that ends inside a tie
   * group then often holds the rest of it, sparing the call that would fetch it.
   */
  extra?: number;
  /**
   * Whether the listing cache keeps what this read fetches (default true). A read of exactly one page's window is
   * asked by no other request, so storing it would only spend cache writes.
   */
  keep?: boolean;
}

/**
 * One upstream listing with its filters bound. It answers a single question:
 * "give me items [offset, offset + count)". Everything above works on item offsets.
 */
export interface OffsetReader<T> {
  read(offset: number, count: number, cap: number, options?: ReadOptions): Promise<ReaderWindow<T>>;
  /**
   * Every item created at exactly `createdAt`, from a single upstream response; null when no single response can
   * hold them; `"moved"` when they were no longer where they were seen (items arrived meanwhile). `[from, to)` is where the tie group was seen. Upstreams may order tied items differently for
   * different windows, so a group seen across two responses is read again as one.
   */
  ties?(createdAt: string, from: number, to: number, cap: number): Promise<T[] | null | "moved">;
}
