/**
 * The wire and the disk format, shared by the kernel side, the command line and the browser:
 * message types and MIME names, the run record and its parser, the metrics file format and its
 * parser, the died rule, the display payload builder, and how numbers and durations read.
 * No Node and no DOM imports: both halves import this module.
 */
export * from "./wire";
export * from "./numbers";
export * from "./status";
export * from "./record";
export * from "./metrics";
export * from "./downsample";
export * from "./smooth";
export * from "./npy";
export * from "./payload";
export * from "./format";
export * from "./json";
export * from "./html";
export * from "./errors";
export * from "./text-table";
export * from "./layout";
export * from "./names";
export * from "./columns";
export * from "./session";
export * from "./suggest";
export * from "./diff";
export * from "./query";
export * from "./compare";
export * from "./code";
export * from "./reproduce";
export * from "./sweep";
export * from "./sweep-view";
export * from "./annotations";
export * from "./experiment-index";
export * from "./trash";
export * from "./system";
