/** What recording hands to the delivery queue: one message per delivery attempt. */
/** A queue message: deliver event `event_id` to endpoint `endpoint_id` as attempt `attempt`. */
export interface DeliveryMessage {
  event_id: string;
  endpoint_id: string;
  attempt: number;
  /** The delivery's generation when queued; a replay starts a new one and older messages are dropped. */
  generation: number;
  /** Unix ms before which the attempt must not run: set only when the delay exceeds one queue hop. */
  due_at?: number;
}

/** Queues delivery messages; Queues take at most 100 messages per batch. */
export async function enqueue(queue: Queue<DeliveryMessage>, messages: DeliveryMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 100) {
    await queue.sendBatch(messages.slice(i, i + 100).map((body) => ({ body, contentType: "json" as const })));
  }
}
