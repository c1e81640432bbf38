import type { StatusFacts, VideoStatus } from './derive-status';

/**
 * The status document's links to the transcript and captions. The transcript is
 * linked once the video is ready (its document says whether there is speech); captions only
 * when the run's analysis says it heard speech (present or partial), since a video without
 * speech has none. Without the run's state (Temporal forgot it) the transcript's own
 * `links.captions` says where they are.
 */
export function withTranscriptLinks(status: VideoStatus, facts: Pick<StatusFacts, 'state'>): VideoStatus {
  if (!status.links.rendition) return status;
  const id = status.videoId;
  const heard = facts.state?.analysis?.transcript;
  const spoken = (heard === 'present' || heard === 'partial') && Boolean(facts.state?.analysis?.transcriptExcerpt);
  return {
    ...status,
    links: {
      ...status.links,
      transcript: `/videos/${id}/transcript`,
      ...(spoken ? { captions: `/videos/${id}/captions.vtt` } : {}),
    },
  };
}
