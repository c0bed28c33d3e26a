/** What a source served for one window. */
export interface SourceRead<T> {
  /** The items at [offset, offset + items.length), in the upstream's order. */
  items: T[];
  /** Whether an item exists at offset + items.length. */
  hasMore: boolean;
  /** The upstream's count of all items, or null where it has none. */
  total: number | null;
  /** Updated upstream knowledge to carry in the cursor (see each model). */
  hint: number;
}

/**
 * One upstream listing with its filters bound. It answers a single question:
 * "give me items [offset, offset + count)". Everything above works on item offsets.
 */
export interface Source<T> {
  read(offset: number, count: number, hint: number): Promise<SourceRead<T>>;
}
