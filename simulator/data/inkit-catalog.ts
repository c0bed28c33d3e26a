import { chance, int, pick, type Rng } from "./random";
import { CITIES, FIRST_NAMES, LAST_NAMES, STREETS } from "./vocabulary";

/** Every destination Inkit documents, in the alphabetical order its JSON uses. */
export const INKIT_DESTINATIONS = [
  "amazon_s3",
  "box",
  "docusign",
  "dropbox",
  "google_drive",
  "inkit_storage",
  "magic_link",
  "salesforce",
  "sepire",
] as const;
export type InkitDestinationName = (typeof INKIT_DESTINATIONS)[number];

/** The documented piece-id field of each destination (inkit_storage has document_id and name instead). */
export const PIECE_ID_FIELDS = {
  amazon_s3: "amazon_s3_piece_id",
  box: "box_piece_id",
  docusign: "docusign_piece_id",
  dropbox: "dropbox_piece_id",
  google_drive: "google_drive_piece_id",
  magic_link: "magic_link_piece_id",
  salesforce: "salesforce_piece_id",
  sepire: "mail_piece_id",
} as const satisfies Record<Exclude<InkitDestinationName, "inkit_storage">, string>;

/** Id prefixes of the pieces. Only `doc_` and `mp_` appear in the docs; the rest are invented. */
export const PIECE_ID_PREFIXES = {
  amazon_s3: "s3p",
  box: "boxp",
  docusign: "dsp",
  dropbox: "dbxp",
  google_drive: "gdp",
  magic_link: "ml",
  salesforce: "sfp",
  sepire: "mp",
} as const satisfies Record<keyof typeof PIECE_ID_FIELDS, string>;

/** What a run is invoked from: a flow (workflow) or a bare template render. */
interface RunSource {
  kind: "flow" | "template";
  name: string;
  /** Sorted, like every key list in Inkit's JSON. */
  destinations: readonly InkitDestinationName[];
  /** Sorted. */
  mergeParameters: readonly MergeParameter[];
}

export interface FlowSpec extends RunSource {
  kind: "flow";
}

export interface TemplateSpec extends RunSource {
  kind: "template";
  latestVersion: number;
  /** The Inkit Storage document name; the docs' template example uses "demo". */
  documentName: string;
}

type MergeParameter =
  | "name"
  | "fname"
  | "lname"
  | "customer_name"
  | "invoice_number"
  | "amount_due"
  | "due_date"
  | "policy_number"
  | "renewal_date"
  | "account_number"
  | "start_date"
  | "salary"
  | "address_line1"
  | "city"
  | "state"
  | "zip"
  | "member_id";

const flow = (name: string, destinations: InkitDestinationName[], mergeParameters: MergeParameter[]): FlowSpec => ({
  kind: "flow",
  name,
  destinations: destinations.sort(),
  mergeParameters: mergeParameters.sort(),
});

const template = (
  name: string,
  documentName: string,
  latestVersion: number,
  destinations: InkitDestinationName[],
  mergeParameters: MergeParameter[],
): TemplateSpec => ({
  kind: "template",
  name,
  documentName,
  latestVersion,
  destinations: destinations.sort(),
  mergeParameters: mergeParameters.sort(),
});

const ADDRESS: MergeParameter[] = ["address_line1", "city", "state", "zip"];

/** Between them the demo flows use every destination type. */
export const DEMO_FLOWS: readonly FlowSpec[] = [
  flow("Hi", ["inkit_storage"], ["lname", "name"]),
  flow("Monthly Statement", ["inkit_storage", "sepire"], ["customer_name", "account_number", ...ADDRESS]),
  flow("Invoice", ["amazon_s3", "inkit_storage"], ["customer_name", "invoice_number", "amount_due", "due_date"]),
  flow("Welcome Packet", ["box", "inkit_storage"], ["fname", "lname", "start_date"]),
  flow("Offer Letter", ["docusign", "inkit_storage"], ["fname", "lname", "salary", "start_date"]),
  flow("Lease Agreement", ["docusign", "dropbox", "inkit_storage"], ["customer_name", "start_date", ...ADDRESS]),
  flow(
    "Policy Renewal Notice",
    ["google_drive", "inkit_storage", "sepire"],
    ["customer_name", "policy_number", "renewal_date", ...ADDRESS],
  ),
  flow("Account Summary Link", ["inkit_storage", "magic_link"], ["fname", "account_number"]),
  flow("Quote to Salesforce", ["inkit_storage", "salesforce"], ["customer_name", "amount_due"]),
  flow(
    "Past Due Reminder",
    ["inkit_storage", "salesforce", "sepire"],
    ["customer_name", "invoice_number", "amount_due", ...ADDRESS],
  ),
  flow("Explanation of Benefits", ["amazon_s3", "inkit_storage", "magic_link"], ["fname", "lname", "member_id"]),
  flow("W-9 Request", ["box", "google_drive", "inkit_storage"], []),
];

export const DEMO_TEMPLATES: readonly TemplateSpec[] = [
  template("demo", "demo", 2, ["inkit_storage", "sepire"], []),
  template("Invoice", "invoice.pdf", 5, ["inkit_storage"], ["customer_name", "invoice_number", "amount_due"]),
  template(
    "Certificate of Insurance",
    "coi.pdf",
    3,
    ["inkit_storage", "magic_link"],
    ["customer_name", "policy_number"],
  ),
  template("Postcard", "postcard", 1, ["inkit_storage", "sepire"], ["fname", ...ADDRESS]),
];

export const OTHER_FLOWS: readonly FlowSpec[] = [
  flow("Globex Onboarding", ["inkit_storage", "docusign"], ["fname", "lname", "start_date"]),
  flow("Globex Invoice", ["inkit_storage", "sepire"], ["customer_name", "invoice_number", "amount_due", ...ADDRESS]),
];

export const OTHER_TEMPLATES: readonly TemplateSpec[] = [
  template("Globex Letterhead", "letter.pdf", 4, ["inkit_storage"], ["customer_name"]),
];

/** A plausible value for one merge parameter. */
function mergeValue(rng: Rng, parameter: MergeParameter): string {
  switch (parameter) {
    case "name":
    case "fname":
      return pick(rng, FIRST_NAMES);
    case "lname":
      return pick(rng, LAST_NAMES);
    case "customer_name":
      return `${pick(rng, FIRST_NAMES)} ${pick(rng, LAST_NAMES)}`;
    case "invoice_number":
      return `INV-${int(rng, 10000, 99999)}`;
    case "amount_due":
      return `$${thousands(int(rng, 12, 9800))}.${String(int(rng, 0, 99)).padStart(2, "0")}`;
    case "due_date":
    case "renewal_date":
    case "start_date":
      return `2026-${String(int(rng, 7, 12)).padStart(2, "0")}-${String(int(rng, 1, 28)).padStart(2, "0")}`;
    case "policy_number":
      return `POL-${int(rng, 100, 999)}-${int(rng, 100000, 999999)}`;
    case "account_number":
      return String(int(rng, 10_000_000, 99_999_999));
    case "salary":
      return `$${thousands(int(rng, 45, 190) * 1000)}`;
    case "address_line1":
      return `${int(rng, 1, 9999)} ${pick(rng, STREETS)}${chance(rng, 0.2) ? ` Apt ${int(rng, 1, 40)}` : ""}`;
    case "city":
    case "state":
    case "zip":
      return cityField(int(rng, 0, CITIES.length - 1), parameter);
    case "member_id":
      return `M${int(rng, 100000000, 999999999)}`;
  }
}

/** 12345 → "12,345" without Intl, which is slow to start and locale dependent. */
function thousands(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+$)/g, ",");
}

/** City, state and zip are read from one row so an address stays coherent. */
function cityField(row: number, field: "city" | "state" | "zip"): string {
  const [city, state, zip] = CITIES[row] ?? CITIES[0];
  return field === "city" ? city : field === "state" ? state : zip;
}

/** The merge parameters of one run. `parameters` are pre-sorted so keys come out alphabetical, like Inkit's JSON. */
export function mergeParameters(rng: Rng, parameters: readonly MergeParameter[]): Record<string, string> {
  const row = int(rng, 0, CITIES.length - 1);
  const out: Record<string, string> = {};
  for (const parameter of parameters) {
    out[parameter] =
      parameter === "city" || parameter === "state" || parameter === "zip"
        ? cityField(row, parameter)
        : mergeValue(rng, parameter);
  }
  return out;
}
