/**
 * Absolute server paths in text shown to clients (an ffmpeg or file-system error names the work
 * dir, the media dir, the ingest dir) become their last component: a viewer learns the file name
 * the message is about, never the server's layout. URLs (`scheme://host/path`) are left
 * alone: the lookbehind refuses a slash that follows a slash or a colon.
 */
const ABSOLUTE_PATH = /(?<![\w:/.~-])(\/(?:[^\s/'"()<>,;]+\/)+)([^\s/'"()<>,;]*)/g;

export function withoutServerPaths(text: string): string {
  return text.replace(ABSOLUTE_PATH, (_all, _dirs: string, last: string) => last || '…');
}
