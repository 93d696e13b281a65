//! What a run sends: the tokenizer, the prompts (input file or synthetic)
//! and when requests are released (closed loop, rate schedule, fixed trace).

use crate::cli::ProfileArgs;
use crate::tokenizer_source::load_tokenizer;
use anyhow::Context;
use imgperf_core::dataset::parse_single_turn;
use imgperf_core::plan::PromptSpec;
use imgperf_core::reference::RowReferences;
use imgperf_core::runner::Arrivals;
use imgperf_core::schedule::{fixed_schedule, Schedule};
use imgperf_core::synthetic::generate_prompts;
use imgperf_core::tokenizer::Tokenizer;

use super::flags::Validated;
use super::MOCK_MODEL;

pub(crate) fn tokenizer_for(
    args: &ProfileArgs,
    model: &str,
) -> anyhow::Result<(Tokenizer, String)> {
    if let Some(name) = &args.tokenizer {
        return Ok((load_tokenizer(name)?, name.clone()));
    }
    match load_tokenizer(model) {
        Ok(t) => Ok((t, model.to_owned())),
        Err(_) => {
            if model != MOCK_MODEL {
                eprintln!("note: no tokenizer found locally for {model:?}; counting input tokens with the bundled gpt2 (choose with --tokenizer)");
            }
            Ok((load_tokenizer("gpt2")?, "gpt2".to_owned()))
        }
    }
}

/// What the dataset gives: prompts, each row's `timestamp` (ms) for
/// `--fixed-schedule`, and each row's reference images as written (input
/// files only; loaded for edits by [`super::references`]).
pub(crate) struct Prompts {
    pub specs: Vec<PromptSpec>,
    pub stamps: Vec<Option<f64>>,
    pub rows: Vec<RowReferences>,
}

pub(crate) fn prompts(
    args: &ProfileArgs,
    tokenizer: &Tokenizer,
    seed: u64,
) -> anyhow::Result<Prompts> {
    match &args.input_file {
        Some(path) => {
            let content = std::fs::read(path)
                .with_context(|| format!("cannot read --input-file {}", path.display()))?;
            let content = String::from_utf8(content).map_err(|e| {
                anyhow::anyhow!(
                    "--input-file {} is not valid UTF-8 (first bad byte at offset {})",
                    path.display(),
                    e.utf8_error().valid_up_to()
                )
            })?;
            let entries = parse_single_turn(&path.display().to_string(), &content)?;
            let stamps = entries.iter().map(|e| e.timestamp_ms).collect();
            let rows = entries
                .iter()
                .map(|e| RowReferences {
                    line: e.line,
                    images: e.images.clone(),
                    mask: e.mask.clone(),
                })
                .collect();
            let specs = entries
                .into_iter()
                .map(|e| PromptSpec {
                    prompt: e.prompt(),
                    extra: e.extra,
                })
                .collect();
            Ok(Prompts {
                specs,
                stamps,
                rows,
            })
        }
        None => {
            let specs: Vec<PromptSpec> = generate_prompts(
                tokenizer,
                args.synthetic_input_tokens_mean,
                args.synthetic_input_tokens_stddev,
                args.num_dataset_entries,
                seed,
            )
            .into_iter()
            .map(|prompt| PromptSpec {
                prompt,
                extra: None,
            })
            .collect();
            let stamps = vec![None; specs.len()];
            Ok(Prompts {
                specs,
                stamps,
                rows: Vec::new(),
            })
        }
    }
}

pub(crate) fn arrivals(
    args: &ProfileArgs,
    v: &Validated,
    timestamps: &[Option<f64>],
    seed: u64,
) -> anyhow::Result<Arrivals> {
    if args.fixed_schedule {
        let stamps = timestamps
            .iter()
            .enumerate()
            .map(|(i, t)| {
                t.ok_or_else(|| {
                    anyhow::anyhow!(
                        "--fixed-schedule: row {} of the input file has no \"timestamp\" (ms)",
                        i + 1
                    )
                })
            })
            .collect::<anyhow::Result<Vec<f64>>>()?;
        let rows = fixed_schedule(
            &stamps,
            args.fixed_schedule_auto_offset,
            args.fixed_schedule_start_offset,
            args.fixed_schedule_end_offset,
        )?;
        return Ok(Arrivals::Fixed(rows));
    }
    match &v.rate {
        Some(spec) => {
            let schedule = Schedule::new(spec, seed)?;
            let schedule = match v.request_count {
                Some(n) => schedule.conditioned_on_count(n),
                None => schedule,
            };
            Ok(Arrivals::Open(Box::new(schedule)))
        }
        None => Ok(Arrivals::Closed),
    }
}
