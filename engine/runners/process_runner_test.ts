import { createProcessRunner } from "./process_runner.ts";
import { runnerCases } from "../testdata/sandbox/runner_cases.ts";
import { k8sRunnerCases } from "../testdata/sandbox/k8s_runner_cases.ts";

runnerCases("createProcessRunner()", (options) => createProcessRunner(options));
k8sRunnerCases("createProcessRunner()", (options) => createProcessRunner(options));
