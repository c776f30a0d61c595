/**
 * Say something to the person now, on stderr. In a notebook this lands in the cell that
 * caused it (process.emitWarning prints on a later tick, after the cell may have finished).
 */
export function warn(message: string): void {
  console.warn(message.startsWith("labnote:") ? message : `labnote: ${message}`);
}
