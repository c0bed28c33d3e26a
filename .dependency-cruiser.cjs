// The layers of src/, top to bottom: a folder may import itself and the layers below it, never one above.
// docs/architecture.md says what each layer holds. `npm run layers` checks every import; `.ci/run` runs it.
const LAYERS = [
  ["entry points", "^src/(index|scheduled|queue)\\.ts$"],
  ["app", "^src/app\\.ts$"],
  ["routes", "^src/(routes|openapi)/"],
  ["http", "^src/http/"],
  ["feeds", "^src/feeds/"],
  ["detection", "^src/detection/"],
  ["connections", "^src/connections/"],
  ["delivery", "^src/delivery/"],
  ["stream", "^src/stream/"],
  ["events", "^src/events/"],
  ["storage", "^src/storage/"],
  ["providers", "^src/providers/"],
  ["paging", "^src/paging/"],
  ["cache", "^src/cache/"],
  ["upstream", "^src/upstream/"],
  ["observability", "^src/observability/"],
  ["schemas", "^src/schemas/"],
  ["shared", "^src/(shared/|config\\.ts$)"],
];

// Type-only imports follow the same rules, with one way out: a type-only import of a file listed here may point up.
// It vanishes at build time, so it cannot pull code or a cycle into a lower layer, but it still ties that layer to a
// higher one's names. The list is empty: no layer needs a type from above it. Add a file only with the reason beside it.
const HARMLESS_TYPE_TARGETS = [];

const above = (i) =>
  LAYERS.slice(0, i + 1)
    .map(([, path]) => path)
    .join("|");

const upward = LAYERS.slice(1).flatMap(([name, path], i) => {
  const rule = {
    name: `layer-${name.replace(/\W+/g, "-")}`,
    comment: `${name} may import only the layers below it (see docs/architecture.md)`,
    severity: "error",
    from: { path },
  };
  const typeOnly = { path: above(i), dependencyTypes: ["type-only"] };
  if (HARMLESS_TYPE_TARGETS.length > 0) typeOnly.pathNot = HARMLESS_TYPE_TARGETS.join("|");
  return [
    { ...rule, to: { path: above(i), dependencyTypesNot: ["type-only"] } },
    { ...rule, name: `${rule.name}-types`, to: typeOnly },
  ];
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...upward,
    {
      name: "src-stands-alone",
      comment: "The worker's code never imports tests, benchmarks, scripts or the simulators.",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(test|bench|scripts|simulator)/" },
    },
    {
      name: "simulators-doubt-us",
      comment: "The simulators are the tests' ground truth: they never share the worker's code or its assumptions.",
      severity: "error",
      from: { path: "^simulator/" },
      to: { path: "^src/" },
    },
    {
      name: "resolvable",
      comment: "Every relative import resolves to a file.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true, path: "^\\." },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
