/** Word lists the generators draw from, so the data reads like real traffic. */

export const FIRST_NAMES = [
  "Andrew",
  "Maria",
  "James",
  "Priya",
  "Chen",
  "Fatima",
  "Lucas",
  "Olivia",
  "Mateo",
  "Aisha",
  "Noah",
  "Sofia",
  "Kwame",
  "Hannah",
  "Diego",
  "Yuki",
  "Ethan",
  "Leila",
  "Omar",
  "Grace",
  "Ivan",
  "Chloe",
  "Rahul",
  "Emma",
  "Tomás",
  "Zoe",
  "Samuel",
  "Amara",
  "Felix",
  "Nadia",
] as const;

export const LAST_NAMES = [
  "Mayer",
  "Garcia",
  "Smith",
  "Patel",
  "Wang",
  "Khan",
  "Müller",
  "Johnson",
  "Rossi",
  "Okafor",
  "Brown",
  "Silva",
  "Mensah",
  "Schmidt",
  "López",
  "Tanaka",
  "Wilson",
  "Haddad",
  "Ali",
  "Kim",
  "Petrov",
  "Martin",
  "Sharma",
  "Dubois",
  "O'Brien",
  "Nguyen",
  "Cohen",
  "Adeyemi",
  "Novak",
  "Berg",
] as const;

export const STREETS = ["Main St", "Oak Ave", "Market St", "2nd Ave", "Elm St", "Harbor Blvd", "Pine Rd"] as const;

export const CITIES = [
  ["Austin", "TX", "78701"],
  ["Denver", "CO", "80202"],
  ["Portland", "OR", "97205"],
  ["Columbus", "OH", "43215"],
  ["Raleigh", "NC", "27601"],
  ["Boston", "MA", "02108"],
] as const;

export const BATCH_NAMES = [
  "Batch Name",
  "October statements",
  "Q3 renewals",
  "Welcome wave 12",
  "Past due - 30 days",
  "Past due - 60 days",
  "Open enrollment mailers",
  "Invoice run",
  "Lease renewals",
  "Backfill",
  "test",
  "Weekly EOB",
  "Year-end 1099",
  "Rate change notices",
  "Re-send failed",
] as const;

export const RUN_NAMES = [
  "Manual re-run",
  "Support request",
  "Customer resend",
  "QA check",
  "Retry after address fix",
  "Portal download",
  "Escalation copy",
] as const;

export const RUN_DESCRIPTIONS = [
  "Triggered from the CRM after a status change.",
  "Re-generated because the mailing address was corrected.",
  "Requested by the customer through the support portal.",
  "Nightly job.",
  "Sent as part of the renewal cadence.",
] as const;

export const SMS_TEXTS = [
  "STATUS",
  "Where is my order?",
  "STOP",
  "HELP",
  "Reschedule please",
  "YES",
  "Can I change my delivery address?",
  "Hello, world!",
  "Is the store open on Sunday?",
  "CANCEL",
  "Thanks!",
  "I need to talk to someone",
] as const;

export const CHAT_TEXTS = [
  "My invoice looks wrong",
  "How do I reset my password?",
  "The app keeps crashing",
  "Hi there",
  "I was charged twice",
  "Can you extend my trial?",
  "Where can I download my receipt?",
] as const;
