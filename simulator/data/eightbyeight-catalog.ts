import { EIGHT_BY_EIGHT_DEFINITION_IDS, type Tenant } from "../credentials";
import { chance, int, pick, type Rng, uuid, weighted } from "./random";
import { BIG_TIE_GROUP } from "./ties";
import { CHAT_TEXTS, FIRST_NAMES, LAST_NAMES, SMS_TEXTS } from "./vocabulary";

/** 8x8's documented workflow statuses. */
export const EIGHT_BY_EIGHT_STATUSES = ["Runnable", "Suspended", "Complete", "Terminated"] as const;
export type EightByEightStatus = (typeof EIGHT_BY_EIGHT_STATUSES)[number];

/** A workflow's trigger payload (`data.payload`); absent for scheduled triggers. */
export type Payload = Record<string, unknown>;

export interface VersionSpec {
  version: number;
  instances: number;
  /** The version was live between these many days before the dataset's "now". */
  liveFromDaysAgo: number;
  liveUntilDaysAgo: number;
  /** One exact tie of this many instances (a burst of triggers in one millisecond). */
  bigTieGroup?: number;
}

export interface DefinitionSpec {
  id: string;
  name: string;
  versions: readonly VersionSpec[];
  subAccountIds: readonly string[];
  payload: (rng: Rng) => Payload | undefined;
}

const phone = (rng: Rng): string => `+1${int(rng, 201, 989)}555${String(int(rng, 0, 9999)).padStart(4, "0")}`;
const person = (rng: Rng): string => `${pick(rng, FIRST_NAMES)} ${pick(rng, LAST_NAMES)}`;

/** Chat apps trigger, shaped like the docs' example payload. */
const chatPayload = (rng: Rng): Payload => ({
  umid: uuid(rng),
  user: { channelUserId: `wa_${int(rng, 10 ** 9, 10 ** 10 - 1)}`, name: person(rng) },
  content: { text: pick(rng, CHAT_TEXTS) },
});

const smsPayload = (rng: Rng): Payload => ({
  umid: uuid(rng),
  source: phone(rng),
  destination: "+15550100200",
  body: pick(rng, SMS_TEXTS),
  encoding: "GSM7",
});

const orderPayload = (rng: Rng): Payload => ({
  orderId: `ORD-${int(rng, 100000, 999999)}`,
  customer: { name: person(rng), phone: phone(rng) },
  status: weighted(rng, [
    ["shipped", 5],
    ["out_for_delivery", 3],
    ["delivered", 6],
    ["delayed", 1],
  ]),
  ...(chance(rng, 0.6) ? { carrier: pick(rng, ["UPS", "FedEx", "USPS", "DHL"]) } : {}),
});

/** Reminders are mostly started by a schedule, which carries no payload. */
const reminderPayload = (rng: Rng): Payload | undefined =>
  chance(rng, 0.3)
    ? undefined
    : {
        appointmentId: `APT-${int(rng, 10000, 99999)}`,
        patientFirstName: pick(rng, FIRST_NAMES),
        clinic: pick(rng, ["Downtown", "Northside", "Harbor"]),
        channel: pick(rng, ["sms", "whatsapp"]),
      };

const ids = EIGHT_BY_EIGHT_DEFINITION_IDS;

export const DEFINITIONS: Record<Tenant, readonly DefinitionSpec[]> = {
  demo: [
    {
      id: ids.demo.orderNotifications,
      name: "Order status notifications",
      versions: [
        { version: 1, instances: 300, liveFromDaysAgo: 120, liveUntilDaysAgo: 60 },
        { version: 2, instances: 1300, liveFromDaysAgo: 60, liveUntilDaysAgo: 0, bigTieGroup: BIG_TIE_GROUP },
      ],
      subAccountIds: ["acmeops_us_sms", "acmeops_eu_sms"],
      payload: orderPayload,
    },
    {
      id: ids.demo.smsKeywordRouter,
      name: "Inbound SMS keyword router",
      versions: [{ version: 1, instances: 400, liveFromDaysAgo: 120, liveUntilDaysAgo: 0 }],
      subAccountIds: ["acmeops_us_sms"],
      payload: smsPayload,
    },
    {
      id: ids.demo.appointmentReminders,
      name: "Appointment reminders",
      versions: [
        { version: 1, instances: 60, liveFromDaysAgo: 120, liveUntilDaysAgo: 80 },
        { version: 2, instances: 60, liveFromDaysAgo: 80, liveUntilDaysAgo: 40 },
        { version: 3, instances: 60, liveFromDaysAgo: 40, liveUntilDaysAgo: 0 },
      ],
      subAccountIds: ["acmeops_clinics"],
      payload: reminderPayload,
    },
    {
      id: ids.demo.chatEscalation,
      name: "Chat escalation (never triggered)",
      versions: [{ version: 1, instances: 0, liveFromDaysAgo: 10, liveUntilDaysAgo: 0 }],
      subAccountIds: ["acmeops_chat"],
      payload: chatPayload,
    },
  ],
  other: [
    {
      id: ids.other.supportTriage,
      name: "Support triage",
      versions: [{ version: 1, instances: 30, liveFromDaysAgo: 120, liveUntilDaysAgo: 0 }],
      subAccountIds: ["globex_hq"],
      payload: chatPayload,
    },
  ],
};
