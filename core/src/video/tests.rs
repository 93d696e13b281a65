//! What a payload asks and how an MP4 is compared with it.

use super::*;
use serde_json::json;

fn facts(w: u32, h: u32, frames: u64, fps: f64) -> Mp4Facts {
    Mp4Facts {
        brand: None,
        fourcc: "avc1".into(),
        codec: "h264".into(),
        width: w,
        height: h,
        frames,
        duration_s: frames as f64 / fps,
        fps,
        fragmented: false,
    }
}

#[test]
fn asks_come_from_size_seconds_fps_and_frames() {
    let a = VideoAsk::from_payload(&json!({"size": "1280x720", "seconds": "4", "fps": 24}));
    assert_eq!(a.frames, Some(96));
    assert_eq!(a.seconds, Some(4.0));
    let a = VideoAsk::from_payload(&json!({"seconds": 4, "num_frames": 81}));
    assert_eq!((a.frames, a.fps), (Some(81), None));
    let a = VideoAsk::from_payload(&json!({"seconds": "x"}));
    assert_eq!(a, VideoAsk::default());
}

#[test]
fn matching_mp4_has_no_issue_and_each_difference_is_one() {
    let ask = VideoAsk::from_payload(&json!({"size": "1280x720", "seconds": 4, "fps": 24}));
    assert!(check(&ask, &facts(1280, 720, 96, 24.0)).is_empty());
    // SGLang: sizes rounded up to 16, Wan's 4k+1 frames.
    let ask = VideoAsk::from_payload(&json!({"size": "330x190", "seconds": 4, "fps": 24}));
    let issues = check(&ask, &facts(336, 192, 93, 24.0));
    let kinds: Vec<IssueKind> = issues.iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        [
            IssueKind::SizeMismatch,
            IssueKind::FrameCountMismatch,
            IssueKind::DurationMismatch
        ]
    );
    assert!(
        issues[0].message.contains("multiples of 16"),
        "{}",
        issues[0].message
    );
    assert!(issues[1].message.contains("4k+1"), "{}", issues[1].message);
    let ask = VideoAsk::from_payload(&json!({"fps": 30}));
    assert_eq!(
        check(&ask, &facts(8, 8, 30, 24.0))[0].kind,
        IssueKind::FrameRateMismatch
    );
}
