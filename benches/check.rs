//! Criterion benchmark of a healthy-host `check`: the whole binary as a user runs it (process
//! start, host identification, every probe, verdicts, JSON), and the in-process pipeline alone.
//! Run with `cargo bench --bench check`. The budgets (1 dir <= 20 ms, `host` <= 5 ms, 20 dirs
//! <= 3x 1 dir, SYN drop, peak RSS, binary size) are measured by `benches/run.sh`, which also
//! times the calibration smoke programs; results in reports/benchmarks.md.

use criterion::{Criterion, criterion_group, criterion_main};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;
use wsl_vecprobe::app::{CheckOptions, run_check};
use wsl_vecprobe::host::{HostRoot, real_env};

fn bench_check(c: &mut Criterion) {
    let data = tempfile::tempdir().expect("tempdir");
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_wsl-vecprobe"));
    let mut group = c.benchmark_group("check");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(6));
    group.bench_function("binary --format json", |b| {
        b.iter(|| {
            let status = Command::new(&exe)
                .args(["check", "--format", "json", "--data-dir"])
                .arg(data.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("run");
            assert!(status.success());
        })
    });
    let profiles = wsl_vecprobe::catalogue::load_catalogue(&[]).expect("builtin catalogue");
    group.bench_function("in-process pipeline", |b| {
        b.iter(|| {
            let out = run_check(CheckOptions {
                root: HostRoot::live(),
                data_dirs: vec![data.path().to_path_buf()],
                profiles: profiles.clone(),
                timeout: Duration::from_secs(3),
                connect_attempts: 20,
                replay: None,
                env: real_env,
                exe: Some(exe.clone()),
                started: None,
                host: None,
            });
            assert!(!out.report.probes.is_empty() || profiles.is_empty());
        })
    });
    group.finish();
}

criterion_group!(benches, bench_check);
criterion_main!(benches);
