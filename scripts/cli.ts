/**
 * Pipeline CLI entry point (`npm run pipeline -- <command>`). One file per
 * command under scripts/commands (thin shells over scripts/stages),
 * scripts/convert and scripts/experiments; the only importer of
 * scripts/commands and the only place that exits the process.
 */
import { defineCommand, runMain } from "citty";

const lazy = <T>(load: () => Promise<{ default: T }>) => () => load().then((m) => m.default);

const main = defineCommand({
  meta: { name: "pipeline", description: "Preflight offline pipeline: outcomes + activations → probes → student → bundle" },
  subCommands: {
    build: lazy(() => import("./commands/build.js")),
    ingest: lazy(() => import("./commands/ingest.js")),
    probes: lazy(() => import("./commands/probes.js")),
    distill: lazy(() => import("./commands/distill.js")),
    "distill-sweep": lazy(() => import("./experiments/distill-sweep.js")),
    "tune-student": lazy(() => import("./experiments/tune-student.js")),
    export: lazy(() => import("./commands/export.js")),
    evaluate: lazy(() => import("./commands/evaluate.js")),
    promote: lazy(() => import("./commands/promote.js")),
    publish: lazy(() => import("./commands/publish.js")),
    alias: lazy(() => import("./commands/alias.js")),
    pull: lazy(() => import("./commands/pull.js")),
    gate: lazy(() => import("./commands/gate.js")),
    "make-fixture": lazy(() => import("./commands/make-fixture.js")),
    "label-plan": lazy(() => import("./commands/label-plan.js")),
    "add-model": lazy(() => import("./commands/add-model.js")),
    "make-e2e-fixture": lazy(() => import("./commands/make-e2e-fixture.js")),
    "make-many-model-pool": lazy(() => import("./commands/make-many-model-pool.js")),
    "teacher-logits": lazy(() => import("./commands/teacher-logits.js")),
    "convert-llmrouter": lazy(() => import("./convert/llmrouter.js")),
    "convert-routellm": lazy(() => import("./convert/routellm.js")),
    "convert-gsm": lazy(() => import("./convert/gsm.js")),
    "convert-math": lazy(() => import("./convert/math.js")),
    "convert-matharena": lazy(() => import("./convert/matharena.js")),
    "convert-arenahard": lazy(() => import("./convert/arenahard.js")),
  },
});

runMain(main).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
