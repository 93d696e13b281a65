//! imgperf native front end: the CLI, the reqwest/tokio transport, artifact
//! files, console output and the embedded mock image server. The binary
//! (`main.rs`) only parses arguments and calls [`run`].

pub mod artifacts;
pub mod cli;
pub mod console;
pub mod encode;
pub mod extract;
pub mod memory;
pub mod merge;
pub mod mock;
pub mod profile;
pub mod publish;
pub mod runtime;
pub mod shard;
pub mod spill;
pub mod telemetry;
pub mod tokenizer_source;
pub mod transport;

use cli::{Cli, Command};

/// Run a parsed command line; `argv` is the raw command line (for the record, redacted).
pub async fn run(cli: Cli, argv: &[String]) -> anyhow::Result<i32> {
    match cli.command {
        Command::Profile(args) => {
            let report = profile::profile(&args, argv).await?;
            Ok(if report.was_cancelled { 130 } else { 0 })
        }
        Command::ServeMock(args) => {
            mock::serve_forever(*args).await?;
            Ok(0)
        }
        Command::Merge(args) => {
            merge::run_merge(&args, argv)?;
            Ok(0)
        }
        Command::Extract(args) => {
            let n = extract::run_extract_all(&args).await?;
            eprintln!("{n} files extracted");
            Ok(0)
        }
        Command::Publish(args) => {
            let site = publish::publish(&args)?;
            println!(
                "Published {} runs and {} sweeps to {}: serve it with any static server, e.g. \
                 `python3 -m http.server -d {} 8000`, and open http://127.0.0.1:8000/",
                site.runs.len(),
                site.sweeps.len(),
                args.output.display(),
                args.output.display()
            );
            Ok(0)
        }
    }
}
