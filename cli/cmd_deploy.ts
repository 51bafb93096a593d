/**
 * `pipedreamer deploy [dir]`: generates the workflow's manifests and applies them to one or
 * more clusters (server-side apply), then waits for the rollout. `--dry-run` prints the same
 * manifests (YAML, or a JSON List with `-o json`) and touches no cluster.
 *
 * @module
 */

import { type Command, Option } from "commander";
import { stringify } from "yaml";
import type { BundleMode, DEFAULT_RUNTIME_CLASS, KubeObject } from "../k8s/mod.ts";
import { forEachContext, kubeClients } from "./_k8s.ts";
import { readTimeout } from "./_time.ts";
import {
  type CliContext,
  ExitCode,
  globalOptions,
  loadWorkflowOrReport,
  printError,
  printJson,
  printLine,
  usageError,
} from "./_output.ts";

/**
 * k8s's `BundleMode` and `DEFAULT_RUNTIME_CLASS`, repeated so that registering `deploy` does not
 * load k8s/ (and @kubernetes/client-node) for every command; the types keep them equal.
 */
const BUNDLE_MODE = { Bundle: "bundle", Source: "source" } as const satisfies typeof BundleMode;
const RUNTIME_CLASS: typeof DEFAULT_RUNTIME_CLASS = "gvisor";

interface DeployFlags {
  image?: string;
  clusterRegistry?: string;
  runtimeClass: string;
  createNamespace?: boolean;
  dryRun?: boolean;
  runtimeConfig?: string;
  tokenFile?: string;
  timeout: string;
  wait: boolean;
  allContexts?: boolean;
  bundle: BundleMode;
}

/** Registers `deploy`. */
export function registerDeploy(program: Command, cli: CliContext): void {
  program
    .command("deploy")
    .description("deploy a workflow to Kubernetes (server-side apply, then wait for the rollout)")
    .argument("[dir]", "workflow directory", ".")
    .option(
      "--image <ref>",
      "engine image (default: <registry>/<name>:<version>, what build -r pushes)",
    )
    .option(
      "--cluster-registry <host>",
      "registry host the cluster pulls from (rewrites the image)",
    )
    .option(
      "--runtime-class <name>",
      'RuntimeClass of the pods; "" disables it',
      RUNTIME_CLASS,
    )
    .option("--create-namespace", "create the namespace when it does not exist")
    .option(
      "--dry-run",
      "print the manifests (YAML; a JSON List with -o json) and touch no cluster",
    )
    .option("--runtime-config <file>", "YAML put in <name>-config: overrides config: at runtime")
    .option(
      "--token-file <file>",
      "engine API token to deploy (default: keep the cluster's, else new)",
    )
    .option("--timeout <duration>", "how long to wait for the rollout", "5m")
    .option("--no-wait", "return once applied, without waiting for the rollout")
    .option("--all-contexts", "deploy to every context of the kubeconfig")
    .addOption(
      new Option(
        "--bundle <from>",
        "code for the ConfigMap: the builder's bundle, or the sources as they are",
      )
        .choices(Object.values(BUNDLE_MODE))
        .default(BUNDLE_MODE.Bundle),
    )
    .addHelpText(
      "after",
      "\nSecrets come from .secrets.yaml or .secrets/ and are mounted at /app/secrets, never as\n" +
        "environment variables. Use --context (repeatable) or --all-contexts for several clusters.",
    )
    .action(async (dir: string, flags: DeployFlags, command: Command) => {
      const globals = globalOptions(command, { yaml: true });
      if (globals.output === "yaml" && !flags.dryRun) {
        usageError(command, '"-o yaml" prints manifests: use it with "--dry-run"');
      }
      const timeoutMs = readTimeout(command, flags.timeout);
      const { bundleSource, deployWorkflow, existingToken, planDeploy } = await import(
        "../k8s/mod.ts"
      );
      const workflow = await loadWorkflowOrReport(cli, dir);
      if (!workflow) return;
      const pinnedToken = flags.tokenFile
        ? (await Deno.readTextFile(flags.tokenFile)).trim()
        : undefined;
      const planOptions = {
        namespace: globals.namespace,
        image: flags.image,
        registry: globals.registry,
        clusterRegistry: flags.clusterRegistry,
        runtimeClass: flags.runtimeClass,
        createNamespace: flags.createNamespace,
        runtimeConfigFile: flags.runtimeConfig,
        workflow,
        files: await bundleSource(flags.bundle)(workflow),
      };
      if (flags.dryRun) {
        const plan = await planDeploy(dir, { ...planOptions, token: pinnedToken });
        if (globals.output === "json") {
          printJson(cli, { apiVersion: "v1", kind: "List", items: plan.objects });
        } else {
          cli.io.stdout(toYaml(plan.objects));
        }
        cli.exitCode = ExitCode.Ok;
        return;
      }
      const clients = await kubeClients(command, { allContexts: flags.allContexts });
      const results = await forEachContext(cli, clients, async (client) => {
        const say = (message: string) =>
          printError(cli, clients.length > 1 ? `[${client.context}] ${message}` : message);
        const token = pinnedToken ?? await existingToken(client, workflow.name, globals.namespace);
        const plan = await planDeploy(dir, { ...planOptions, token });
        say(
          `Deploying ${workflow.name} ${workflow.version} to namespace "${globals.namespace}" (context "${client.context}"), image ${plan.image}`,
        );
        const result = await deployWorkflow(client, plan, {
          createNamespace: flags.createNamespace,
          wait: flags.wait,
          onProgress: (m) => say(`  ${m}`),
          rollout: { timeoutMs, onProgress: (m) => say(`  rollout: ${m}`) },
        });
        if (globals.output !== "json") {
          printLine(
            cli,
            `✓ ${result.name} ${result.version} deployed to ${result.namespace}` +
              `${clients.length > 1 ? ` (context ${result.context})` : ""}${
                flags.wait ? ", rollout complete" : ""
              }`,
          );
        }
        return result;
      });
      if (globals.output === "json") {
        printJson(cli, clients.length > 1 || flags.allContexts ? results : results[0]);
      }
    });
}

/** Manifests as a multi-document YAML stream. */
function toYaml(objects: KubeObject[]): string {
  return objects.map((o) => `---\n${stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })}`)
    .join("");
}
