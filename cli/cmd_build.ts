/**
 * `pipedreamer build [dir]`: the workflow's engine image (OCI), assembled without a Docker
 * daemon, pushed to a registry or written as an OCI layout; optionally an equivalent
 * Dockerfile and the workflow bundle's files.
 *
 * @module
 */

import { type Command, Option } from "commander";
import {
  buildImage,
  BuildPlatform,
  BundlePlacement,
  createProgressRenderer,
  DEFAULT_BASE_IMAGE,
  writeDockerfile,
} from "../builder/mod.ts";
import { writeBuildRecord } from "./_build_record.ts";
import {
  type CliContext,
  ExitCode,
  globalOptions,
  loadWorkflowOrReport,
  printJson,
  printLine,
  usageError,
} from "./_output.ts";

interface BuildFlags {
  tag?: string;
  push?: boolean;
  platform: string;
  runtimeBinary?: string;
  base: string;
  out?: string;
  bundle: BundlePlacement;
  bundleOut?: string;
  insecureRegistry?: boolean;
  dockerfile?: string;
  dockerConfig?: string;
}

/** Registers `build`. */
export function registerBuild(program: Command, cli: CliContext): void {
  program
    .command("build")
    .description(
      "build the engine image (OCI, no Docker daemon) and the workflow bundle; push it with " +
        "-r <registry> --push, or write an OCI layout with --out",
    )
    .argument("[dir]", "workflow directory", ".")
    .option("-t, --tag <name[:tag]>", "image name; without a tag the workflow version is used")
    .option("--push", "push the image to its registry (-r <registry>, or a registry in --tag)")
    .addOption(
      new Option("--platform <os/arch>", "target platform; linux/arm64 needs --runtime-binary")
        .choices(Object.values(BuildPlatform))
        .default(BuildPlatform.LinuxAmd64),
    )
    .option(
      "--runtime-binary <path>",
      "runtime for the image: a `deno compile`d pipedreamer, or a deno binary (file named deno*) " +
        "with the engine bundled beside it (default: this host's deno)",
    )
    .option("--base <image>", "base image, pulled through the registry API", DEFAULT_BASE_IMAGE)
    .option(
      "--out <dir|file.tar>",
      "write an OCI image layout directory, or an OCI archive when it ends in .tar " +
        "(default without --push: dist/<name>-<version>.oci)",
    )
    .addOption(
      new Option(
        "--bundle <where>",
        "where the workflow bundle goes: the code ConfigMap, the image, or auto (image when over 900 KiB)",
      ).choices(Object.values(BundlePlacement)).default(BundlePlacement.Auto),
    )
    .option("--bundle-out <dir>", "also write the workflow bundle (the ConfigMap's files) to <dir>")
    .option(
      "--insecure-registry",
      "use plain HTTP for loopback registries (localhost, 127.0.0.0/8, [::1]); never for others",
    )
    .option(
      "--dockerfile <path>",
      "also write an equivalent Dockerfile and its context beside it; alone (no --push/--out) " +
        "only the Dockerfile is written",
    )
    .option(
      "--docker-config <path>",
      "registry credentials file (default: $DOCKER_CONFIG/config.json or ~/.docker/config.json)",
    )
    .addHelpText(
      "after",
      "\nWith -o json stdout holds { image, digest, layers, bundle: { inConfigMap, inImage, " +
        "bytes, codeHash, files }, platform, runtime, pushed, out, dockerfile }.\n" +
        "Progress goes to stderr. Builds are reproducible: set SOURCE_DATE_EPOCH to stamp a date.",
    )
    .action(async (dir: string, flags: BuildFlags, command: Command) => {
      const globals = globalOptions(command);
      const hostArch = Deno.build.arch === "aarch64" ? "arm64" : "amd64";
      if (flags.platform !== `linux/${hostArch}` && !flags.runtimeBinary) {
        usageError(
          command,
          `Cannot build for "${flags.platform}" on this linux/${hostArch} host without --runtime-binary: ` +
            `pass a ${flags.platform} pipedreamer (deno compile --target ${
              flags.platform === "linux/arm64" ? "aarch64" : "x86_64"
            }-unknown-linux-gnu) or a ${flags.platform} deno binary`,
        );
      }
      if (flags.push && !globals.registry && !flags.tag?.includes("/")) {
        usageError(
          command,
          "Cannot push: no registry; pass -r <registry> or --tag <registry>/<name>",
        );
      }
      const workflow = await loadWorkflowOrReport(cli, dir);
      if (!workflow) return;

      const onProgress = createProgressRenderer((text) => cli.io.stderr(text), {
        tty: Deno.stderr.isTerminal(),
      });
      const common = {
        tag: flags.tag,
        platform: flags.platform,
        base: flags.base,
        runtimeBinary: flags.runtimeBinary,
        bundle: flags.bundle,
        onProgress,
      };
      let dockerfile: string | undefined;
      if (flags.dockerfile) {
        const written = await writeDockerfile(dir, flags.dockerfile, common);
        dockerfile = written.dockerfile;
        onProgress({
          kind: "step",
          message: `Wrote ${written.dockerfile}; build it with: ${written.command}`,
        });
        if (!flags.push && !flags.out) {
          if (globals.output === "json") printJson(cli, { dockerfile, context: written.context });
          else printLine(cli, `✓ wrote ${written.dockerfile}`);
          cli.exitCode = ExitCode.Ok;
          return;
        }
      }

      const out = flags.out ??
        (flags.push ? undefined : `dist/${workflow.name}-${workflow.version}.oci`);
      const result = await buildImage(dir, {
        ...common,
        registry: globals.registry,
        push: flags.push === true,
        out,
        bundleOut: flags.bundleOut,
        insecureRegistry: flags.insecureRegistry === true,
        dockerConfig: flags.dockerConfig,
      });
      if (result.pushed) {
        // deploy pins this exact image by digest (see _build_record.ts).
        await writeBuildRecord(workflow.dir, {
          image: result.image,
          digest: result.digest,
          version: workflow.version,
        });
      }
      if (globals.output === "json") {
        printJson(cli, { ...result, dockerfile });
      } else {
        printLine(cli, `✓ built ${result.image} (${result.platform}, ${result.runtime} runtime)`);
        printLine(cli, `  digest ${result.digest}`);
        if (result.pushed) printLine(cli, `  pushed to ${result.image}@${result.digest}`);
        if (result.out) printLine(cli, `  written to ${result.out}`);
        printLine(
          cli,
          `  workflow bundle: ${result.bundle.bytes} bytes ${
            result.bundle.inImage ? "baked into the image" : "for the code ConfigMap"
          }${flags.bundleOut ? `, files in ${flags.bundleOut}` : ""}`,
        );
      }
      cli.exitCode = ExitCode.Ok;
    });
}
