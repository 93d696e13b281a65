//! The video job object a server answers to a submit or a poll
//! (`{"id", "object": "video", "status", "progress", "error", "url", ...}`),
//! and what its `status` means for the client: still queued, generating,
//! completed, or failed. SGLang adds `inference_time_s` and `peak_memory_mb`.

use crate::output::ServerFigures;
use serde_json::Value;

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Waiting in the server's queue (`queued`, `pending`).
    Queued,
    /// Being generated (`in_progress`, or any status not known to be final).
    Running,
    /// Done (`completed`, `succeeded`).
    Completed,
    /// Ended without a video (`failed`, `cancelled`, `expired`).
    Failed,
}

impl Stage {
    /// The stage a `status` string names.
    pub fn of(status: &str) -> Stage {
        match status.trim().to_ascii_lowercase().as_str() {
            "queued" | "pending" | "submitted" => Stage::Queued,
            "completed" | "succeeded" | "success" => Stage::Completed,
            "failed" | "error" | "cancelled" | "canceled" | "expired" => Stage::Failed,
            _ => Stage::Running,
        }
    }
}

/// A job object, as far as the client needs it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobObject {
    /// `id`.
    pub id: Option<String>,
    /// `status` as written.
    pub status: Option<String>,
    /// `progress` (0 to 100).
    pub progress: Option<f64>,
    /// `error.message` (or a string `error`) of a failed job.
    pub error: Option<String>,
    /// `url` when the server gives one (SGLang leaves it null).
    pub url: Option<String>,
    /// `inference_time_s` and `peak_memory_mb` when reported.
    pub server: ServerFigures,
}

impl JobObject {
    /// The stage its status names (`None`: no status field).
    pub fn stage(&self) -> Option<Stage> {
        self.status.as_deref().map(Stage::of)
    }
}

/// Read a job object from a response body; the error says what is wrong.
pub fn parse(body: &[u8]) -> Result<JobObject, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        let preview = String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned();
        format!("video job answer is not JSON ({e}): {preview:?}")
    })?;
    let Value::Object(o) = value else {
        return Err("video job answer is not a JSON object".into());
    };
    let text = |k: &str| match o.get(k) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let num = |k: &str| match o.get(k) {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let error = match o.get("error") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(e)) => Some(
            e.get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| Value::Object(e.clone()).to_string()),
        ),
        _ => None,
    };
    Ok(JobObject {
        id: text("id"),
        status: text("status"),
        progress: num("progress"),
        error,
        url: text("url"),
        server: ServerFigures {
            inference_time_s: num("inference_time_s"),
            peak_memory_mb: num("peak_memory_mb"),
            ..ServerFigures::default()
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sglang_and_openai_job_objects() {
        let queued = br#"{"id":"video_1","object":"video","status":"queued","progress":0,"url":null,"error":null}"#;
        let j = parse(queued).unwrap();
        assert_eq!(j.id.as_deref(), Some("video_1"));
        assert_eq!(j.stage(), Some(Stage::Queued));
        assert_eq!(j.url, None);
        let done = br#"{"id":"v","status":"completed","progress":100,"inference_time_s":12.5,"peak_memory_mb":"30000.5"}"#;
        let j = parse(done).unwrap();
        assert_eq!(j.stage(), Some(Stage::Completed));
        assert_eq!(j.server.inference_time_s, Some(12.5));
        assert_eq!(j.server.peak_memory_mb, Some(30000.5));
        let failed =
            br#"{"id":"v","status":"failed","error":{"code":"x","message":"CUDA out of memory"}}"#;
        let j = parse(failed).unwrap();
        assert_eq!(j.stage(), Some(Stage::Failed));
        assert_eq!(j.error.as_deref(), Some("CUDA out of memory"));
        assert_eq!(Stage::of("in_progress"), Stage::Running);
        assert_eq!(Stage::of("processing"), Stage::Running);
        assert!(parse(b"Internal Server Error")
            .unwrap_err()
            .contains("not JSON"));
        assert!(parse(b"[1]").is_err());
    }
}
