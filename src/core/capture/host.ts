import * as os from "node:os";

export interface HostInfo {
  hostname: string;
  os: string;
  platform: string;
  release: string;
  arch: string;
  cpu: { model: string; count: number };
  memory: { total: number };
  node: string;
  user: string;
  pid: number;
  [custom: string]: unknown;
}

let cached: HostInfo | undefined;

/** What machine this is; computed once per process (it does not change while it runs). */
export function hostInfo(): HostInfo {
  if (cached) return { ...cached };
  const cpus = os.cpus();
  let user = "";
  try {
    user = os.userInfo().username;
  } catch {
    user = process.env.USER ?? "";
  }
  cached = {
    hostname: os.hostname(),
    os: `${os.type()} ${os.release()}`,
    platform: process.platform,
    release: os.release(),
    arch: process.arch,
    cpu: { model: cpus[0]?.model ?? "unknown", count: cpus.length },
    memory: { total: os.totalmem() },
    node: process.version,
    user,
    pid: process.pid,
  };
  return { ...cached };
}
