//! Filesystems that fake Unix permissions, made for real with bindfs: one that ignores chmod
//! (as DrvFs without `metadata` and ntfs-3g do) and one that forces every file's owner (as
//! FUSE mounts with `uid=` do). `file.permissions` must say so, and PostgreSQL — which refuses
//! such a PGDATA — must be blocked with that reason; a plain bindfs mount keeps permissions
//! and blocks nothing. Needs root, unshare, bindfs and FUSE; skips otherwise. And a socket dir
//! outside the data dir that the user may not write (PostgreSQL's `/var/run/postgresql`,
//! `drwxrwsr-x postgres:postgres`, for a user outside that group), made for real and checked as
//! uid 65534 (root and setpriv).
#![cfg(target_os = "linux")]

mod common;
use common::*;

fn on_bindfs(options: &str) -> (serde_json::Value, String) {
    let (t, dir) = tempdir();
    let (src, mnt) = (format!("{dir}/src"), format!("{dir}/mnt"));
    std::fs::create_dir(&src).unwrap();
    std::fs::create_dir(&mnt).unwrap();
    let script = format!(
        r#"bindfs {options} "{src}" "$1" || exit 97
"$2" check --data-dir "$1" --format json; rc=$?
fusermount -u "$1"; exit $rc"#
    );
    let r = in_mount_namespace(&script, &mnt, &[]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "bindfs {options}: {}", r.stderr);
    assert_eq!(std::fs::read_dir(&src).unwrap().count(), 0, "left files");
    drop(t);
    (r.json(), mnt)
}

#[test]
fn a_filesystem_that_ignores_chmod_or_forces_an_owner_blocks_postgres() {
    if !privileged("fake_permissions", &["unshare", "bindfs", "fusermount"]) {
        return;
    }
    for (options, said) in [
        ("--chmod-ignore", "chmod 0700 reads back as"),
        ("--force-user=nobody", "is owned by uid 65534"),
    ] {
        let (report, mnt) = on_bindfs(options);
        let o = probe(&report, "file.permissions", Some(&mnt));
        assert_eq!(o["status"], "fail", "{options}: {o:#}");
        assert!(
            o["message"].as_str().unwrap().contains(said),
            "{options}: {o:#}"
        );
        assert_verdict(&report, "pgvector", Some(&mnt), &["blocked"]);
        assert!(
            has_violated_reason(&report, "pgvector", Some(&mnt), "file.permissions"),
            "{options}: pgvector names file.permissions"
        );
        // Backends that never check permissions are not judged on them.
        assert!(!has_violated_reason(
            &report,
            "faiss",
            Some(&mnt),
            "file.permissions"
        ));
    }
}

#[test]
fn a_fuse_mount_that_keeps_permissions_passes() {
    if !privileged("fake_permissions", &["unshare", "bindfs", "fusermount"]) {
        return;
    }
    let (report, mnt) = on_bindfs("");
    let o = probe(&report, "file.permissions", Some(&mnt));
    assert_eq!(o["status"], "pass", "{o:#}");
    assert_eq!(o["values"]["mode_after"], "0700", "{o:#}");
    assert!(!has_violated_reason(
        &report,
        "pgvector",
        Some(&mnt),
        "file.permissions"
    ));
}

#[test]
fn a_socket_dir_the_user_may_not_write_fails_with_eacces_and_blocks_its_backend() {
    use std::os::unix::fs::PermissionsExt;
    const TEST: &str = "socket_dir_unwritable";
    if !privileged(TEST, &["setpriv"]) {
        return;
    }
    let (t, dir) = tempdir();
    let mode = |p: &str, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    };
    mode(&dir, 0o755);
    // Owned by uid/gid 1 (daemon), group-writable: as /var/run/postgresql is for postgres.
    let run_dir = format!("{dir}/run-postgresql");
    std::fs::create_dir(&run_dir).unwrap();
    std::os::unix::fs::chown(&run_dir, Some(1), Some(1)).unwrap();
    mode(&run_dir, 0o775);
    let data = format!("{dir}/data");
    std::fs::create_dir(&data).unwrap();
    std::os::unix::fs::chown(&data, Some(65534), Some(65534)).unwrap();
    let profile = format!("{dir}/sockdir.toml");
    std::fs::write(
        &profile,
        format!(
            r#"
id = "sockdir"
name = "Sockdir DB"
kind = "server"
summary = "a server whose socket and lock file go in a fixed dir"
docs = "https://example.org"

[[sockets]]
base = "{run_dir}"
name = ".s.SOCK.1"
source = "https://example.org/socket"
"#
        ),
    )
    .unwrap();
    let as_nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"];
    let bin = bin();
    let reachable = std::process::Command::new("setpriv")
        .args(as_nobody)
        .args(["test", "-x"])
        .arg(&bin)
        .status()
        .is_ok_and(|s| s.success());
    if !reachable {
        skip(TEST, &format!("uid 65534 cannot execute {}", bin.display()));
        return;
    }
    let id = format!("uds.socket_dir:{run_dir}");
    let args = [
        "check",
        "--data-dir",
        &data,
        "--profile",
        &profile,
        "--format",
        "json",
    ];
    let mut cmd = std::process::Command::new("setpriv");
    cmd.args(as_nobody).arg(&bin).args(args);
    let r = run_cmd(cmd, std::time::Duration::from_secs(30));
    r.assert_no_panic();
    let report = r.json();
    let o = probe(&report, &id, Some(&run_dir));
    assert_eq!(o["status"], "fail", "{o:#}");
    assert_eq!(o["errno"], "EACCES", "{o:#}");
    assert_eq!(o["values"]["exists"], true, "{o:#}");
    assert_eq!(o["values"]["writable"], false, "{o:#}");
    assert_eq!(o["values"]["mode"], "0775", "{o:#}");
    assert_eq!(o["values"]["euid"], 65534, "{o:#}");
    assert_verdict(&report, "sockdir", Some(&data), &["blocked"]);
    assert!(has_violated_reason(&report, "sockdir", Some(&data), &id));

    // The same dir as root (who may create files anywhere on a writable filesystem) passes,
    // and neither run wrote anything there.
    let report = run(args, &[]).json();
    let o = probe(&report, &id, Some(&run_dir));
    assert_eq!(o["status"], "pass", "{o:#}");
    assert_eq!(o["values"]["writable"], true, "{o:#}");
    assert_ne!(verdict(&report, "sockdir", Some(&data)), "blocked");
    assert_eq!(std::fs::read_dir(&run_dir).unwrap().count(), 0);
    assert!(leftovers(std::path::Path::new(&data)).is_empty());
    drop(t);
}
