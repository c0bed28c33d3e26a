/** Whether an endpoint or a poll-only subscription subscribes to an event type (null = every type). */
export function subscribes(row: { event_types: string | null }, type: string): boolean {
  return row.event_types === null || (JSON.parse(row.event_types) as string[]).includes(type);
}
