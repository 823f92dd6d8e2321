//! Entry point: parse the command line, run, exit with the documented code.

use clap::Parser;

fn main() {
    wsl_vecprobe::platform::tune_allocator();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let is_worker = args.get(1).is_some_and(|a| a == "__worker");
    // First thing: from here on SIGINT/SIGTERM always means cleanup and exit 130. (A worker
    // child is killed by its parent instead.)
    if !is_worker {
        wsl_vecprobe::probe::scratch::install_interrupt_handler();
        #[cfg(unix)]
        wsl_vecprobe::platform::unix::signals::ignore_file_size_limit_signal();
    }
    // Hidden re-exec entry for probes that run in a child process (src/probe/worker.rs),
    // dispatched before clap so a worker starts as fast as possible.
    if is_worker {
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
            // Help that cannot be written is an output failure; a usage error whose message
            // cannot be written is still exit 2. One prefix for every error, ours and clap's.
            let printed = if e.use_stderr() {
                let text = e.render().to_string();
                let text = text.strip_prefix("error: ").unwrap_or(&text);
                wsl_vecprobe::error::warn(
                    format!("wsl-vecprobe: error: {text}").trim_end_matches('\n'),
                );
                Ok(())
            } else {
                e.print()
            };
            wsl_vecprobe::probe::scratch::exit(if e.use_stderr() {
                wsl_vecprobe::error::EXIT_BAD_INPUT
            } else if let Err(why) = printed {
                wsl_vecprobe::error::warn(&format!(
                    "wsl-vecprobe: error: cannot write the output to stdout: {why}"
                ));
                wsl_vecprobe::error::EXIT_OUTPUT_FAILED
            } else {
                0
            });
        }
    };
    wsl_vecprobe::probe::scratch::exit(wsl_vecprobe::app::run(cli));
}
