/** The words a stand-in analysis shows people: never mistaken for the real thing. */
export function delayedSummary(offlineSummary: string, refused: boolean): string {
  const head = refused
    ? 'AI analysis refused by the provider (content policy); indexed from metadata only.'
    : 'Analysis delayed: the AI service is unavailable, so this video is indexed from its metadata for now and will be analysed automatically later.';
  return `${head} ${offlineSummary}`;
}
