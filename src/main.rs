//! Entry point: parse the command line, run, exit with the documented code.

use clap::Parser;

fn main() {
    // Hidden re-exec entry for probes that run in a child process (src/probe/worker.rs),
    // dispatched before clap so a worker starts as fast as possible.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "__worker") {
        let name = args
            .get(2)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        std::process::exit(wsl_vecprobe::probe::worker::dispatch(
            &name,
            args.get(3..).unwrap_or(&[]),
        ));
    }
    let cli = match wsl_vecprobe::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            if e.use_stderr() {
                // One prefix for every error, the tool's own and clap's.
                let text = e.render().to_string();
                let text = text.strip_prefix("error: ").unwrap_or(&text);
                eprint!("wsl-vecprobe: error: {text}");
            } else {
                let _ = e.print();
            }
            std::process::exit(if e.use_stderr() {
                wsl_vecprobe::error::EXIT_BAD_INPUT
            } else {
                0
            });
        }
    };
    std::process::exit(wsl_vecprobe::app::run(cli));
}
