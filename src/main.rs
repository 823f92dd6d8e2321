fn main() {
    // Hidden re-exec entry for probes that run in a child process (src/probe/worker.rs).
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
    println!("wsl-vecprobe");
}
