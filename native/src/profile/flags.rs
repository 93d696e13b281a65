//! `imgperf profile` flags checked and converted before any I/O, and the
//! effective configuration recorded as the summary's `input_config`.

use crate::cli::ProfileArgs;
use anyhow::bail;
use imgperf_core::dataset::parse_dataset_type;
use imgperf_core::endpoint::EndpointKind;
use imgperf_core::goodput::Goodput;
use imgperf_core::measure::ValidateImages;
use imgperf_core::plan::SamplingStrategy;
use imgperf_core::reference::synthetic::SyntheticImages;
use imgperf_core::request::{normalize_base_url, parse_extra_inputs, parse_header, EndpointConfig};
use imgperf_core::runner::Cancellation;
use imgperf_core::schedule::{ArrivalPattern, RateSpec};
use serde_json::json;
use std::time::Duration;

use super::MOCK_MODEL;

/// Flags checked and converted, before any I/O.
pub(crate) struct Validated {
    pub endpoint: EndpointConfig,
    /// Synthetic reference images of an edit run without `--input-file`.
    pub synthetic_images: Option<SyntheticImages>,
    pub sampling: SamplingStrategy,
    pub request_count: Option<u64>,
    pub timeout: Duration,
    pub rate: Option<RateSpec>,
    pub cancellation: Option<Cancellation>,
    /// `--validate-images`.
    pub validate_images: ValidateImages,
    /// `--goodput`.
    pub goodput: Option<Goodput>,
    /// `--video-poll-interval`, in ns.
    pub poll_interval_ns: u64,
}

pub(crate) fn seconds(flag: &str, v: f64) -> anyhow::Result<u64> {
    if !(v >= 0.0 && v.is_finite()) {
        bail!("{flag} must be a number of seconds ≥ 0, got {v}");
    }
    Ok((v * 1e9).round() as u64)
}

fn load_flags(args: &ProfileArgs) -> anyhow::Result<(Option<RateSpec>, Option<Cancellation>)> {
    if args.concurrency == Some(0) {
        bail!("--concurrency must be at least 1");
    }
    if let Some(d) = args.benchmark_duration {
        if !(d > 0.0 && d.is_finite()) {
            bail!("--benchmark-duration must be a positive number of seconds, got {d}");
        }
    }
    seconds("--benchmark-grace-period", args.benchmark_grace_period)?;
    let rate = match args.request_rate {
        None => None,
        Some(r) if !(r > 0.0 && r.is_finite()) => {
            bail!("--request-rate must be a positive number of requests per second, got {r}")
        }
        Some(rate) => {
            if args.fixed_schedule {
                bail!("--fixed-schedule replays the input file's timestamps; drop --request-rate");
            }
            let pattern = ArrivalPattern::parse(&args.request_rate_mode, args.arrival_smoothness)?;
            let ramp = args
                .request_rate_ramp_duration
                .map(|d| seconds("--request-rate-ramp-duration", d).map(|_| d))
                .transpose()?;
            Some(RateSpec {
                rate,
                pattern,
                ramp_duration_s: ramp,
            })
        }
    };
    if args.fixed_schedule && args.input_file.is_none() {
        bail!("--fixed-schedule needs an --input-file whose rows carry a \"timestamp\" (ms)");
    }
    let cancellation = match args.request_cancellation_rate {
        None | Some(0.0) => None,
        Some(p) if !(0.0..=100.0).contains(&p) => {
            bail!("--request-cancellation-rate is a percentage between 0 and 100, got {p}")
        }
        Some(p) => Some(Cancellation {
            fraction: p / 100.0,
            delay_ns: seconds(
                "--request-cancellation-delay",
                args.request_cancellation_delay,
            )?,
        }),
    };
    Ok((rate, cancellation))
}

/// The image flags of an edit run: synthetic references without an input
/// file (each flag checked by name), none with one. A video run has them
/// only when the flags ask for image-to-video ([`EditArgs::synthetic_video`]).
///
/// [`EditArgs::synthetic_video`]: crate::cli::EditArgs::synthetic_video
fn image_flags(args: &ProfileArgs, kind: EndpointKind) -> anyhow::Result<Option<SyntheticImages>> {
    let spec = if kind.is_edit() {
        Some(args.edit.synthetic().map_err(anyhow::Error::msg)?)
    } else if kind.is_video() {
        args.edit.synthetic_video().map_err(anyhow::Error::msg)?
    } else {
        None
    };
    Ok(spec.filter(|_| args.input_file.is_none()))
}

pub(crate) fn validate(args: &ProfileArgs) -> anyhow::Result<Validated> {
    let kind = EndpointKind::parse(&args.endpoint_type).map_err(anyhow::Error::msg)?;
    if kind.is_video() && args.streaming {
        bail!("--streaming does not apply to --endpoint-type video_generation: a video job is polled, not streamed; drop --streaming");
    }
    let p = args.video_poll_interval;
    if !(p > 0.0 && p <= 3600.0) {
        bail!("--video-poll-interval (or AIPERF_HTTP_VIDEO_POLL_INTERVAL) must be a number of seconds above 0 and at most 3600, got {p}");
    }
    let synthetic_images = image_flags(args, kind)?;
    parse_dataset_type(&args.custom_dataset_type).map_err(|e| anyhow::anyhow!("{e}"))?;
    let sampling =
        SamplingStrategy::parse(&args.dataset_sampling_strategy).map_err(anyhow::Error::msg)?;
    let (rate, cancellation) = load_flags(args)?;
    let request_count = args.effective_request_count();
    if request_count == Some(0) {
        bail!("--request-count must be at least 1");
    }
    if !(args.request_timeout_seconds > 0.0 && args.request_timeout_seconds.is_finite()) {
        bail!(
            "--request-timeout-seconds must be a positive number of seconds, got {}",
            args.request_timeout_seconds
        );
    }
    if args.input_file.is_none() {
        if !(args.synthetic_input_tokens_mean >= 1.0
            && args.synthetic_input_tokens_mean.is_finite())
        {
            bail!(
                "--synthetic-input-tokens-mean must be at least 1, got {}",
                args.synthetic_input_tokens_mean
            );
        }
        if !(args.synthetic_input_tokens_stddev >= 0.0
            && args.synthetic_input_tokens_stddev.is_finite())
        {
            bail!(
                "--synthetic-input-tokens-stddev must be 0 or more, got {}",
                args.synthetic_input_tokens_stddev
            );
        }
        if args.num_dataset_entries == 0 {
            bail!("--num-dataset-entries must be at least 1");
        }
    }
    let model = match (&args.model, args.mock) {
        (Some(m), _) => m.clone(),
        (None, true) => MOCK_MODEL.to_owned(),
        (None, false) => bail!("--model is required (the model name your server serves, e.g. black-forest-labs/FLUX.1-dev); or use --mock to try imgperf against the embedded mock server"),
    };
    let urls = args
        .url
        .iter()
        .map(|u| normalize_base_url(u))
        .collect::<Result<Vec<_>, _>>()?;
    let headers = args
        .header
        .iter()
        .map(|h| parse_header(h))
        .collect::<Result<Vec<_>, _>>()?;
    let extra_inputs = parse_extra_inputs(&args.extra_inputs)?;
    let endpoint = EndpointConfig {
        urls,
        endpoint_path: args
            .endpoint
            .clone()
            .unwrap_or_else(|| kind.default_path().to_owned()),
        model,
        api_key: args.api_key.clone().filter(|k| !k.is_empty()),
        headers,
        extra_inputs,
        streaming: args.streaming,
        kind,
    };
    let validate_images =
        ValidateImages::parse(&args.validate_images).map_err(anyhow::Error::msg)?;
    let goodput = args
        .goodput
        .as_deref()
        .map(Goodput::parse)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    Ok(Validated {
        endpoint,
        synthetic_images,
        sampling,
        request_count,
        timeout: Duration::from_secs_f64(args.request_timeout_seconds),
        rate,
        cancellation,
        validate_images,
        goodput,
        poll_interval_ns: (p * 1e9).round() as u64,
    })
}

fn images_config(args: &ProfileArgs, v: &Validated) -> serde_json::Value {
    let mut out = json!({"validate_images": v.validate_images.name()});
    if v.endpoint.kind.is_edit() || v.endpoint.kind.is_video() {
        out["export_input_images"] = json!(args.edit.export_input_images);
    }
    if let Some(s) = &v.synthetic_images {
        out["synthetic_inputs"] = json!({
            "batch_size": s.batch_size,
            "width": {"mean": s.width_mean, "stddev": s.width_stddev},
            "height": {"mean": s.height_mean, "stddev": s.height_stddev},
            "format": s.format.name(),
        });
    }
    out
}

pub(crate) fn input_config(
    args: &ProfileArgs,
    v: &Validated,
    seed: u64,
    tokenizer_name: &str,
) -> serde_json::Value {
    json!({
        "endpoint": {
            "model_names": [v.endpoint.model],
            "type": v.endpoint.kind.name(),
            "custom_endpoint": v.endpoint.endpoint_path,
            "urls": v.endpoint.urls,
            "streaming": v.endpoint.streaming,
            "timeout_seconds": args.request_timeout_seconds,
            "mock": args.mock,
        },
        "input": {
            "random_seed": seed,
            "input_file": args.input_file.as_ref().map(|p| p.display().to_string()),
            "custom_dataset_type": args.custom_dataset_type,
            "extra": v.endpoint.extra_inputs,
            "synthetic_input_tokens": {"mean": args.synthetic_input_tokens_mean, "stddev": args.synthetic_input_tokens_stddev},
            "tokenizer": tokenizer_name,
        },
        "loadgen": {
            "concurrency": args.concurrency,
            "request_count": v.request_count,
            "warmup_request_count": args.warmup_request_count,
        },
        "output": {"export_level": format!("{:?}", args.export_level).to_lowercase()},
        "images": images_config(args, v),
        "goodput": v.goodput.as_ref().map(Goodput::spec),
        "video": v.endpoint.kind.is_video().then(|| json!({
            "poll_interval_s": args.video_poll_interval,
            "download_video_content": args.download_video_content,
        })),
    })
}
