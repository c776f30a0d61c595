/** Content-addressed blobs: sources, cells and resources, stored once however many runs share them. */
export interface BlobStore {
  /** True when a blob with this hash is stored. */
  hasBlob(sha: string): boolean;
  /** Store bytes once by content hash; returns the hash. */
  putBlob(data: Uint8Array, sha?: string): string;
}
