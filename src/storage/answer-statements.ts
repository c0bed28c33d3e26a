/**
 * Builds, from an operation's result, statements its write runs in the same transaction: a keyed request's kept answer
 * (see `answerInWrite`), so the operation and its answer commit together.
 */
export type AnswerStatements<R> = (result: R) => Promise<D1PreparedStatement[]>;

/** No statements beside the write: a request without `Idempotency-Key`, or work that answers no request. */
export const noAnswer = async (): Promise<D1PreparedStatement[]> => [];
