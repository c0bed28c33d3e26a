import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { eventBody } from "../../src/events/model";
import type { EventType, UnwatchReason } from "../../src/schemas/events";

// An event's body is stored once and sent byte for byte by every attempt: building it around an object serialized
// beforehand must give exactly the bytes of serializing the whole body.

const TYPES: EventType[] = ["run.created", "run.status_changed", "batch.unwatched", "ping"];
const REASONS: (UnwatchReason | undefined)[] = [undefined, "gone", "horizon"];

describe("eventBody", () => {
  it("is JSON.stringify of {type, timestamp, sequence, data: {object, previous, reason}}, with or without the object's JSON", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TYPES),
        fc.string(),
        fc.jsonValue(),
        fc.option(fc.record({ status: fc.string(), provider_status: fc.string() })),
        fc.option(fc.integer({ min: 0 })),
        fc.constantFrom(...REASONS),
        (type, timestamp, object, previous, sequence, reason) => {
          const data = reason === undefined ? { object, previous } : { object, previous, reason };
          const expected = JSON.stringify({ type, timestamp, ...(sequence === null ? {} : { sequence }), data });
          expect(eventBody(type, timestamp, object, previous, sequence, reason)).toBe(expected);
          expect(eventBody(type, timestamp, object, previous, sequence, reason, JSON.stringify(object))).toBe(expected);
        },
      ),
    );
  });

  it("leaves out what JSON.stringify leaves out: an undefined object or previous", () => {
    expect(eventBody("ping", "t", undefined, undefined, null)).toBe(
      JSON.stringify({ type: "ping", timestamp: "t", data: {} }),
    );
  });
});
