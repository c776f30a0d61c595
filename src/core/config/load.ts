import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { LabnoteError } from "../../protocol";
import { isPlainObject } from "../../protocol";
import type { ConfigObject } from "./resolve";

/**
 * Load a config object from a `.json`, `.yaml` or `.yml` file.
 * @example
 * const defaults = loadConfig("configs/base.yaml");
 */
export function loadConfig(file: string): ConfigObject {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new LabnoteError("CONFIG_LOAD", `Cannot read config file ${file}`, (e as Error).message, { cause: e });
  }
  const ext = path.extname(file).toLowerCase();
  let value: unknown;
  try {
    if (ext === ".json") value = JSON.parse(text);
    else if (ext === ".yaml" || ext === ".yml") value = parseYaml(text);
    else throw new Error(`unknown extension "${ext}"; use .json, .yaml or .yml`);
  } catch (e) {
    throw new LabnoteError("CONFIG_LOAD", `Cannot parse config file ${file}`, (e as Error).message, { cause: e });
  }
  if (!isPlainObject(value)) throw new LabnoteError("CONFIG_LOAD", `Invalid config file ${file}`, "the top level must be an object (key: value pairs)");
  return value;
}
