//! Command-line interface (clap derive): subcommands, flags, value parsing, help text.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// Every line fits 80 columns, so clap's wrapping never re-flows it.
const AFTER_HELP: &str = "\
Examples:
  wsl-vecprobe check
      judge every backend for the current directory
  wsl-vecprobe check --data-dir /mnt/c/proj --data-dir ~/proj
  wsl-vecprobe check --format json > report.json
      machine-readable report (schema: `wsl-vecprobe schema`)
  wsl-vecprobe check --format markdown --redact
      paste into an issue without user/host names
  wsl-vecprobe check --require milvus-lite --strict
      CI gate: exit 1 unless milvus-lite is viable
  wsl-vecprobe explain qdrant-local
      the rules behind a backend's verdict, with sources

Exit codes:
  0    the check ran (whatever the verdicts)
  1    a backend named with --require is blocked
       (with --strict: or degraded, or unknown)
  2    usage error or bad input: unknown backend id, bad duration,
       missing or unwritable data dir, unreadable, malformed or invalid
       profile, empty or partial --host-root
  74   the output could not be written to stdout (/dev/full, a closed pipe)
  130  interrupted (Ctrl-C); probe areas were removed";

#[derive(Parser, Debug)]
#[command(
    name = "wsl-vecprobe",
    version,
    about = "Tells, with measured evidence, which vector-database backends will work on this machine",
    long_about = "Runs bounded, harmless probes (memory maps, file locks, ports, loopback connects, unix sockets, \
limits, proxy variables, Python packages) and rates each vector-database backend viable, degraded, blocked \
or unknown, naming the observation behind every rating and what to change.",
    after_help = AFTER_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Probe this host and rate every backend (the main job).
    Check(CheckArgs),
    /// Identify the host and the data dirs' filesystems only (no probes).
    Host(HostArgs),
    /// List the backend ids.
    Backends(BackendsArgs),
    /// Print a backend's requirements, the observation behind each and the sources.
    Explain(ExplainArgs),
    /// Print the JSON Schema of the `--format json` report.
    Schema,
    /// Internal: a probe's child process.
    #[command(name = "__worker", hide = true)]
    Worker {
        name: String,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Markdown,
}

#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// A directory a backend would keep its data in (repeatable; default: the current directory).
    #[arg(long = "data-dir", value_name = "DIR")]
    pub data_dirs: Vec<PathBuf>,
    /// Read host files (proc/…, etc/…) from this recorded tree instead of `/` (as kubeadm's --rootfs).
    #[arg(long, value_name = "DIR")]
    pub host_root: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Replace the user name, home path and host name in the output.
    #[arg(long)]
    pub redact: bool,
}

#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Deadline for the whole run (e.g. `3s`, `500ms`; at least 100ms, at most 10m); probes still running then are reported `timeout`.
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_timeout, allow_hyphen_values = true)]
    pub timeout: Duration,
    /// Load an extra backend profile (TOML, same format as probes/*.toml; repeatable).
    #[arg(long = "profile", value_name = "FILE")]
    pub profiles: Vec<PathBuf>,
    /// Exit 1 when this backend is blocked (repeatable).
    #[arg(long = "require", value_name = "ID")]
    pub require: Vec<String>,
    /// With --require: also exit 1 when a required backend is degraded or unknown.
    #[arg(long, requires = "require")]
    pub strict: bool,
    /// Add the table of every observation.
    #[arg(long, short)]
    pub verbose: bool,
    /// How many loopback connects to time (1-1000).
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub connect_attempts: u32,
    /// Internal: judge recorded observations (JSON) instead of probing (for sample reports).
    #[arg(long, value_name = "FILE", hide = true)]
    pub replay: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct HostArgs {
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Args, Debug, Clone)]
pub struct BackendsArgs {
    /// Load an extra backend profile (repeatable).
    #[arg(long = "profile", value_name = "FILE")]
    pub profiles: Vec<PathBuf>,
    /// `table` (default) or `json`.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Args, Debug, Clone)]
pub struct ExplainArgs {
    /// Backend id (see `wsl-vecprobe backends`).
    pub id: String,
    /// Load an extra backend profile (repeatable).
    #[arg(long = "profile", value_name = "FILE")]
    pub profiles: Vec<PathBuf>,
}

/// The shortest `--timeout` accepted. Measured with the release binary on a 2-core machine:
/// a healthy check first gets every observation at 75 ms, and at 100 ms still does with four
/// checks running at once; at 50 ms some probes always time out, and at 5 ms nearly all do.
/// Below this a run could only report its own lack of time.
pub const MIN_TIMEOUT: Duration = Duration::from_millis(100);

/// `3s`, `500ms`, `1m`: at least `MIN_TIMEOUT`, at most 10 minutes.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("`{s}` is not a duration ({e}); use e.g. `3s` or `500ms`"))?;
    if d < MIN_TIMEOUT {
        return Err(format!(
            "the timeout must be at least {}ms (a shorter run gets only `timeout` observations)",
            MIN_TIMEOUT.as_millis()
        ));
    }
    if d > Duration::from_secs(600) {
        return Err("the timeout must be at most 10m".into());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn timeouts_parse_and_bad_ones_are_refused_with_a_reason() {
        assert_eq!(parse_timeout("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_timeout("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_timeout("100ms"), Ok(MIN_TIMEOUT));
        for short in ["0s", "0", "1ms", "99ms", "99999us"] {
            assert!(
                parse_timeout(short).unwrap_err().contains("at least 100ms"),
                "{short}"
            );
        }
        assert!(parse_timeout("-1").unwrap_err().contains("not a duration"));
        assert!(parse_timeout("abc").unwrap_err().contains("not a duration"));
        assert!(parse_timeout("1h").unwrap_err().contains("at most"));
    }
}
