/** System metrics: what a run samples of its own process (CPU, memory, GPUs), named apart from the user's metrics. */

/** The prefix of every system metric's name: `system/cpu`, `system/rss_mb`, `system/gpu0/util`, … */
export const SYSTEM_PREFIX = "system/";

/** True for a metric the run's process sampled itself rather than one the user logged. */
export function isSystemMetric(name: string): boolean {
  return name.startsWith(SYSTEM_PREFIX);
}

/** Metric names with the user's first and the system's after, each group in its own order. */
export function userMetricsFirst(names: readonly string[]): string[] {
  return [...names.filter((n) => !isSystemMetric(n)), ...names.filter(isSystemMetric)];
}
