//! `--endpoint-type`: which API a run speaks. It decides the default path,
//! the payload's shape (JSON, or an edit's multipart form), how one request
//! runs (a plain exchange, or a video job submitted and polled to
//! completion) and the names AIPerf gives the results table and the
//! artifact directory.

/// The API a run benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EndpointKind {
    /// OpenAI Images API, `POST /v1/images/generations`.
    #[default]
    ImageGeneration,
    /// OpenAI Images API, `POST /v1/images/edits`: reference images plus
    /// text, as `multipart/form-data` ([`crate::edit`]).
    ImageEdit,
    /// OpenAI Videos API: `POST /v1/videos`, then `GET /v1/videos/{id}`
    /// until the job ends, then `GET /v1/videos/{id}/content`.
    VideoGeneration,
}

impl EndpointKind {
    /// Every kind, in `--help` order.
    pub const ALL: [EndpointKind; 3] = [
        EndpointKind::ImageGeneration,
        EndpointKind::ImageEdit,
        EndpointKind::VideoGeneration,
    ];

    /// Parse an `--endpoint-type` value.
    pub fn parse(s: &str) -> Result<EndpointKind, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown --endpoint-type {s:?}: imgperf speaks {}",
                    names.join(" and ")
                )
            })
    }

    /// The `--endpoint-type` value, as AIPerf spells it (also the middle of
    /// the artifact directory name).
    pub fn name(self) -> &'static str {
        match self {
            EndpointKind::ImageGeneration => "image_generation",
            EndpointKind::ImageEdit => "image_edit",
            EndpointKind::VideoGeneration => "video_generation",
        }
    }

    /// Path of the endpoint when `--endpoint` does not name one.
    pub fn default_path(self) -> &'static str {
        match self {
            EndpointKind::ImageGeneration => crate::request::DEFAULT_ENDPOINT,
            EndpointKind::ImageEdit => crate::request::EDIT_ENDPOINT,
            EndpointKind::VideoGeneration => "/v1/videos",
        }
    }

    /// Name of the metrics table, as AIPerf titles it.
    pub fn table_name(self) -> &'static str {
        match self {
            EndpointKind::ImageGeneration => "Image Generation Metrics",
            EndpointKind::ImageEdit => "Image Edit Metrics",
            EndpointKind::VideoGeneration => "Video Generation Metrics",
        }
    }

    /// Whether each request is a video job (submit, polls, content).
    pub fn is_video(self) -> bool {
        self == EndpointKind::VideoGeneration
    }

    /// Whether each request uploads reference images (multipart).
    pub fn is_edit(self) -> bool {
        self == EndpointKind::ImageEdit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_say_what_exists() {
        for k in EndpointKind::ALL {
            assert_eq!(EndpointKind::parse(k.name()), Ok(k));
        }
        let e = EndpointKind::parse("chat").unwrap_err();
        assert!(
            e.contains("video_generation") && e.contains("\"chat\""),
            "{e}"
        );
        assert_eq!(EndpointKind::VideoGeneration.default_path(), "/v1/videos");
        assert_eq!(EndpointKind::ImageEdit.default_path(), "/v1/images/edits");
        assert_eq!(EndpointKind::ImageEdit.table_name(), "Image Edit Metrics");
    }
}
