import type { Source, SourceRead } from "./source";

interface Window<T> {
  offset: number;
  read: SourceRead<T>;
}

/**
 * Remembers what a source served during one request, so a read covered by earlier windows costs no
 * upstream call, and one that overlaps the end of a window only fetches the missing tail.
 */
export function memoize<T>(source: Source<T>): Source<T> {
  const windows: Window<T>[] = [];
  return {
    async read(offset, count, hint) {
      const covering = windows.find((w) => w.offset <= offset && offset < w.offset + w.read.items.length);
      if (!covering) {
        const read = await source.read(offset, count, hint);
        windows.push({ offset, read });
        return read;
      }
      const have = covering.read.items.slice(offset - covering.offset, offset - covering.offset + count);
      const haveEnd = offset + have.length;
      const windowEnd = covering.offset + covering.read.items.length;
      if (have.length === count || (haveEnd === windowEnd && !covering.read.hasMore)) {
        const hasMore = haveEnd < windowEnd || covering.read.hasMore;
        return { ...covering.read, items: have, hasMore };
      }
      const tail = await this.read(haveEnd, count - have.length, covering.read.hint);
      return { ...tail, items: [...have, ...tail.items] };
    },
  };
}
