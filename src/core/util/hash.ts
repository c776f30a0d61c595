import { createHash } from "node:crypto";

/** The sha256 of bytes or text, in hex: the name of a blob in the store. */
export function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}
