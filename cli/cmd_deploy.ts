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
import { pinByDigest, readBuildRecord } from "./_build_record.ts";
import { forEachContext, kubeClients, namespaceFor } from "./_k8s.ts";
import { readTimeout } from "./_time.ts";
import {
  type CliContext,
  ExitCode,
  formatIssues,
  globalOptions,
  loadWorkflowOrReport,
  printError,
  printJson,
  printLine,
  relocateIssues,
  usageError,
} from "./_output.ts";
import { WorkflowSyntaxError } from "../engine/mod.ts";

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
  includeSecrets?: boolean;
  out?: string;
  apiServer?: string[];
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
    .option(
      "--include-secrets",
      "with --dry-run or --out: also print the Secrets (<name>-secrets; <name>-token with --token-file)",
    )
    .option(
      "--out <dir>",
      "write one YAML file per object plus kustomization.yaml (GitOps) and touch no cluster",
    )
    .option(
      "--api-server <ip:port>",
      "API server endpoint for capabilities.k8s egress (repeatable; default: read from the cluster)",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option("--runtime-config <file>", "YAML put in <name>-config: overrides config: at runtime")
    .option(
      "--token-file <file>",
      "pin the engine API token (default: keep the cluster's, else create one once)",
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
      if (flags.includeSecrets && !flags.dryRun && flags.out === undefined) {
        usageError(command, '"--include-secrets" only applies to "--dry-run" and "--out"');
      }
      const timeoutMs = readTimeout(command, flags.timeout);
      const {
        bundleSource,
        checkDeploymentSection,
        defaultImage,
        deployWorkflow,
        kedaInstalled,
        needsKedaLookup,
        parseApiServerEndpoint,
        planDeploy,
        readApiServerEndpoints,
        writeManifestDir,
      } = await import("../k8s/mod.ts");
      let endpoints;
      try {
        endpoints = flags.apiServer?.map(parseApiServerEndpoint);
      } catch (error) {
        usageError(command, (error as Error).message);
      }
      const workflow = await loadWorkflowOrReport(cli, dir);
      if (
        !workflow || !(await deploymentOrReport(cli, dir, () => checkDeploymentSection(workflow)))
      ) {
        return;
      }
      const needsEndpoints = [
        ...Object.values(workflow.nodes),
        ...(workflow.onError ? [workflow.onError] : []),
      ].some((n) => n.capabilities.k8s !== undefined && n.capabilities.k8s !== false);
      const pinnedToken = flags.tokenFile
        ? (await Deno.readTextFile(flags.tokenFile)).trim()
        : undefined;
      // The image build -r --push pushed for this version, pinned by its digest.
      const image = flags.image ??
        (globals.registry ? defaultImage(workflow, globals.registry) : undefined);
      const pinned = image
        ? pinByDigest(image, workflow.version, await readBuildRecord(workflow.dir))
        : undefined;
      if (pinned !== image) printError(cli, `Pinning ${image} by digest: ${pinned}`);
      const planOptions = {
        token: pinnedToken,
        image: pinned,
        registry: globals.registry,
        clusterRegistry: flags.clusterRegistry,
        runtimeClass: flags.runtimeClass,
        createNamespace: flags.createNamespace,
        runtimeConfigFile: flags.runtimeConfig,
        workflow,
        files: await bundleSource(flags.bundle)(workflow),
      };
      if (flags.dryRun || flags.out !== undefined) {
        const namespace = await offlineNamespace(command);
        const plan = await planDeploy(dir, {
          ...planOptions,
          namespace,
          apiServerEndpoints: endpoints,
        });
        // GitOps output holds no secret value unless asked: those Secrets are made out of band.
        const objects = plan.objects.filter((o) => flags.includeSecrets || o.kind !== "Secret");
        const left = plan.objects.filter((o) => !objects.includes(o)).map((o) => o.metadata.name);
        if (left.length > 0) {
          printError(
            cli,
            `# not printed: Secret ${
              left.join(", ")
            } (values): pass --include-secrets, or create it in the cluster`,
          );
        }
        if (plan.autoscaler) printError(cli, `# ${autoscalerNote(plan.autoscaler)}`);
        if (pinnedToken === undefined) {
          printError(
            cli,
            `# not in the manifests: Secret ${workflow.name}-token (the API token; deploy creates it once): ` +
              "create it in the cluster when a GitOps tool applies these, or pin it with --token-file",
          );
        }
        if (flags.out !== undefined) {
          const files = await writeManifestDir(flags.out, objects);
          printLine(cli, `✓ wrote ${files.length} files to ${flags.out} (kustomization.yaml)`);
        } else if (globals.output === "json") {
          printJson(cli, { apiVersion: "v1", kind: "List", items: objects });
        } else {
          cli.io.stdout(toYaml(objects));
        }
        cli.exitCode = ExitCode.Ok;
        return;
      }
      const clients = await kubeClients(command, { allContexts: flags.allContexts });
      const results = await forEachContext(cli, clients, async (client) => {
        const say = (message: string) =>
          printError(cli, clients.length > 1 ? `[${client.context}] ${message}` : message);
        const namespace = namespaceFor(command, client);
        const apiServerEndpoints = endpoints ??
          (needsEndpoints ? await readApiServerEndpoints(client) : undefined);
        const plan = await planDeploy(dir, {
          ...planOptions,
          namespace,
          apiServerEndpoints,
          kedaInstalled: needsKedaLookup(workflow) ? await kedaInstalled(client) : undefined,
        });
        if (plan.autoscaler) say(autoscalerNote(plan.autoscaler));
        say(
          `Deploying ${workflow.name} ${workflow.version} to namespace "${namespace}" (context "${client.context}"), image ${plan.image}`,
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

/**
 * The namespace of a run that talks to no cluster: `-n`, else the current kubeconfig context's
 * namespace when there is a kubeconfig, else "default".
 */
async function offlineNamespace(command: Command): Promise<string> {
  const globals = globalOptions(command, { yaml: true });
  const { loadKubeClient } = await import("../k8s/mod.ts");
  try {
    return namespaceFor(command, loadKubeClient({ context: globals.context[0] }), globals);
  } catch (error) {
    // No kubeconfig (or no such context): a dry run needs none.
    if (error instanceof TypeError) return globals.namespace;
    throw error;
  }
}

/** Runs the `deployment:` check; its issues go to stderr like `validate`'s (exit 1). */
async function deploymentOrReport(
  cli: CliContext,
  dir: string,
  check: () => Promise<void>,
): Promise<boolean> {
  try {
    await check();
    return true;
  } catch (error) {
    if (!(error instanceof WorkflowSyntaxError)) throw error;
    printError(cli, formatIssues(relocateIssues(dir, error.issues)));
    cli.exitCode = ExitCode.Failed;
    return false;
  }
}

/** Which autoscaler `deployment.autoscale` became, and why. */
function autoscalerNote(choice: { kind: string; reason: string }): string {
  return `autoscaler: ${
    choice.kind === "ScaledObject" ? "KEDA ScaledObject" : "CPU HorizontalPodAutoscaler"
  } (${choice.reason})`;
}

/** Manifests as a multi-document YAML stream. */
function toYaml(objects: KubeObject[]): string {
  return objects.map((o) => `---\n${stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })}`)
    .join("");
}
