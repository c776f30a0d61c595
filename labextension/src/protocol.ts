/**
 * The one place the extension imports the wire from: the kernel side's own module,
 * compiled from source (see tsconfig.json: rootDir is the repository so `src/protocol` is in).
 */
export * from "../../src/protocol/index";
