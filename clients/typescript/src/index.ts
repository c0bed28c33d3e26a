export { createTributaryClient, type TributaryClient, type TributaryClientOptions } from "./client.js";
export {
  type Feed,
  type FeedWalkInit,
  type FeedWalkOptions,
  feedPages,
  type NewFeed,
  paginateFeed,
  saveFeed,
} from "./feeds.js";
export { type Event, type FollowEventsOptions, type FollowedEvent, followEvents } from "./follow.js";
export {
  type ItemOf,
  type ListInit,
  type ListPath,
  type PageOf,
  pages,
  pagesBackward,
  paginate,
  paginateBackward,
} from "./paginate.js";
export { type Problem, ProblemError, problemError, unwrap } from "./problem.js";
export { parseRetryAfter, type RetryOptions } from "./retry.js";
export type { components, operations, paths } from "./schema.js";
export { idempotentPosts, type PostRetryOptions } from "./writes.js";
