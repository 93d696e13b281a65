//! A video job's part of a record line: its `video` object (job id, last
//! status, polls, what was asked, the MP4's facts and any issue), in place
//! of the `images` object of an image request.

use serde::Serialize;

use crate::output::ImageIssue;
use crate::record::RequestRecord;
use crate::video::{Mp4Facts, VideoAsk};

/// A record line's `video`.
#[derive(Serialize)]
pub(super) struct VideoEntry<'a> {
    job_id: Option<&'a str>,
    status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    progress: Option<f64>,
    polls: u32,
    poll_errors: u32,
    requested: &'a VideoAsk,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_url: Option<&'a str>,
    /// The download counts in the request latency (`--download-video-content`).
    download_counted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mp4: Option<&'a Mp4Facts>,
    issues: &'a [ImageIssue],
}

impl<'a> VideoEntry<'a> {
    pub fn of(rec: &'a RequestRecord) -> Option<Self> {
        let v = rec.output.video.as_deref()?;
        Some(VideoEntry {
            job_id: v.job_id.as_deref(),
            status: v.status.as_deref(),
            progress: v.progress,
            polls: v.polls,
            poll_errors: v.poll_errors,
            requested: &v.ask,
            content_url: v.content_url.as_deref(),
            download_counted: v.download_counted,
            bytes: v.bytes,
            mp4: v.mp4.as_ref(),
            issues: &rec.output.issues,
        })
    }
}
