//! Entry point: parse the command line, run, exit with the documented code.

use clap::Parser;

fn main() {
    let cli = match wsl_vecprobe::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            std::process::exit(if e.use_stderr() {
                wsl_vecprobe::error::EXIT_BAD_INPUT
            } else {
                0
            });
        }
    };
    std::process::exit(wsl_vecprobe::app::run(cli));
}
