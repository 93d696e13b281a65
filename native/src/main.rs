//! The `imgperf` binary: parse the command line, run, map errors to exit codes.

use clap::Parser;

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let cli = imgperf::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("imgperf: cannot start the async runtime: {e}");
            std::process::exit(2);
        }
    };
    let code = match runtime.block_on(imgperf::run(cli, &argv)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("imgperf: error: {e:#}");
            1
        }
    };
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    std::process::exit(code);
}
