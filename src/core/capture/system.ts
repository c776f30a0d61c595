/**
 * System metrics: every few seconds a run samples its own process — CPU use (percent of one
 * core, user and system time together) and resident memory (MB) — and, where `nvidia-smi`
 * answers, each GPU's utilization (%) and memory used (MB). They are logged as metrics named
 * `system/…` (`system/cpu`, `system/rss_mb`, `system/gpu0/util`, `system/gpu0/mem_mb`), step =
 * the sample's number, so readers show them apart from the user's metrics. A timer, never
 * anything per logged point; `capture: { system: false }` turns it off.
 */
import { execFile } from "node:child_process";
import { SYSTEM_PREFIX } from "../../protocol";

/** How often a run samples its process, in ms. */
export const SYSTEM_SAMPLE_MS = 2_000;

/** Where the samples go (the run's own log). */
export type SampleSink = (values: Record<string, number>, step: number) => void;

/** Whether nvidia-smi answered on this machine: undefined until asked once. */
let gpuAnswers: boolean | undefined;

/** Ask nvidia-smi for each GPU's utilization and memory; undefined when it is absent or fails (then it is never asked again). */
function sampleGpus(): Promise<Record<string, number> | undefined> {
  if (gpuAnswers === false) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const child = execFile("nvidia-smi", ["--query-gpu=utilization.gpu,memory.used", "--format=csv,noheader,nounits"], { timeout: 1500, windowsHide: true }, (err, stdout) => {
      if (err) {
        gpuAnswers = false;
        return resolve(undefined);
      }
      const out: Record<string, number> = {};
      stdout
        .trim()
        .split("\n")
        .forEach((line, i) => {
          const [util, mem] = line.split(",").map((x) => Number(x.trim()));
          if (Number.isFinite(util)) out[`${SYSTEM_PREFIX}gpu${i}/util`] = util;
          if (Number.isFinite(mem)) out[`${SYSTEM_PREFIX}gpu${i}/mem_mb`] = mem;
        });
      gpuAnswers = Object.keys(out).length > 0;
      resolve(gpuAnswers ? out : undefined);
    });
    child.on("error", () => undefined);
    child.unref();
  });
}

/**
 * Start sampling the process into `sink` every `every` ms; returns the function that stops it.
 * The timer never keeps the process alive.
 */
export function sampleSystem(sink: SampleSink, every = SYSTEM_SAMPLE_MS): () => void {
  let step = 0;
  let cpu = process.cpuUsage();
  let at = process.hrtime.bigint();
  let stopped = false;
  const timer = setInterval(() => {
    const nowCpu = process.cpuUsage();
    const now = process.hrtime.bigint();
    const wallUs = Number(now - at) / 1000;
    const usedUs = nowCpu.user - cpu.user + (nowCpu.system - cpu.system);
    cpu = nowCpu;
    at = now;
    const values: Record<string, number> = {
      [`${SYSTEM_PREFIX}cpu`]: wallUs > 0 ? Math.round((1000 * usedUs) / wallUs) / 10 : 0,
      [`${SYSTEM_PREFIX}rss_mb`]: Math.round(process.memoryUsage.rss() / 104857.6) / 10,
    };
    const n = step++;
    void sampleGpus().then((gpu) => {
      if (stopped) return;
      try {
        sink(gpu ? { ...values, ...gpu } : values, n);
      } catch {
        // a run that ended between the sample and its logging: nothing to record
      }
    });
  }, every);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
