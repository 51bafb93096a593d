/**
 * Reading a command's `--input`: JSON text, or `@path` for a JSON file.
 *
 * @module
 */

import type { Command } from "commander";
import { usageError } from "./_output.ts";

/** Parses `--input`: JSON text, or `@path` to read JSON from a file. Bad input exits 2. */
export async function readJsonInput(command: Command, value: string): Promise<unknown> {
  let text = value;
  let source = "--input";
  if (value.startsWith("@")) {
    source = `--input file "${value.slice(1)}"`;
    try {
      text = await Deno.readTextFile(value.slice(1));
    } catch (error) {
      usageError(command, `Cannot read ${source}: ${(error as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    return usageError(
      command,
      `Cannot parse ${source} as JSON: ${
        (error as Error).message
      }; pass e.g. --input '{"name":"Ada"}' or --input @input.json`,
    );
  }
}
