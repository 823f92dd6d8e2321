//! Data-dir facts: classification from the recorded fixtures' mount tables, and the live
//! statfs/access path on this machine.

use super::*;
use crate::host::system::fixture_tests::fixture;

fn recorded_dir(fixture_name: &str, path: &str) -> DataDirFacts {
    let root = fixture(fixture_name);
    let mut dirs = collect_data_dirs(&root, &[path.to_string()]);
    dirs.remove(0)
}

fn class_and_type(d: &DataDirFacts) -> (FsClass, &str) {
    (d.filesystem.class, d.filesystem.fs_type.as_str())
}

#[test]
fn windows_drives_on_every_transport() {
    let cases = [
        ("wsl1", "drvfs", "mounts"),
        ("wsl2-nat", "9p", "mountinfo"),
        ("wsl2-9p-legacy", "9p", "mountinfo"),
        ("wsl2-virtiofs", "virtiofs", "mountinfo"),
    ];
    for (name, fs_type, format) in cases {
        let d = recorded_dir(name, "/mnt/c/Users/me/vectors");
        assert_eq!(
            class_and_type(&d),
            (FsClass::WindowsDrive, fs_type),
            "{name}: {d:?}"
        );
        assert_eq!(
            d.filesystem.mount_point.as_deref(),
            Some("/mnt/c"),
            "{name}"
        );
        assert_eq!(d.filesystem.source_of_facts, format, "{name}");
        assert_eq!(
            d.filesystem.statfs_magic, None,
            "{name}: nothing is statfs'd under a recorded root"
        );
        assert_eq!(d.writable, None, "{name}");
    }
    assert_eq!(
        recorded_dir("wsl1", "/mnt/c").filesystem.source.as_deref(),
        Some("C:\\")
    );
    assert_eq!(
        recorded_dir("wsl2-virtiofs", "/mnt/c")
            .filesystem
            .source
            .as_deref(),
        Some("drvfsC0")
    );
}

#[test]
fn wsl2_linux_side_paths() {
    let home = recorded_dir("wsl2-nat", "/home/user");
    assert_eq!(class_and_type(&home), (FsClass::Local, "ext4"));
    assert_eq!(home.filesystem.mount_point.as_deref(), Some("/"));
    assert_eq!(home.filesystem.read_only, Some(false));
    assert_eq!(
        class_and_type(&recorded_dir("wsl2-nat", "/mnt/wsl")),
        (FsClass::Tmpfs, "tmpfs")
    );
    assert_eq!(
        class_and_type(&recorded_dir("wsl2-nat", "/mnt/wsl/shared/db")),
        (FsClass::Tmpfs, "tmpfs")
    );
    let drivers = recorded_dir("wsl2-nat", "/usr/lib/wsl/drivers");
    assert_eq!(class_and_type(&drivers), (FsClass::Unknown, "9p"));
    assert_eq!(drivers.filesystem.read_only, Some(true));
    // `/mnt/cdrom` is not under `/mnt/c`.
    assert_eq!(
        class_and_type(&recorded_dir("wsl2-nat", "/mnt/cdrom")),
        (FsClass::Local, "ext4")
    );
    // `..` is resolved lexically before the lookup.
    assert_eq!(
        class_and_type(&recorded_dir("wsl2-nat", "/mnt/c/../wsl")),
        (FsClass::Tmpfs, "tmpfs")
    );
}

#[test]
fn plain_linux_and_container_paths() {
    let stick = recorded_dir("linux-plain", "/media/user/USB DISK/db");
    assert_eq!(class_and_type(&stick), (FsClass::Local, "vfat"));
    assert_eq!(
        stick.filesystem.mount_point.as_deref(),
        Some("/media/user/USB DISK")
    );
    assert_eq!(
        class_and_type(&recorded_dir("linux-plain", "/mnt/nas/x")),
        (FsClass::Network, "nfs4")
    );
    assert_eq!(
        class_and_type(&recorded_dir("container-on-wsl2", "/app")),
        (FsClass::Overlay, "overlay")
    );
    assert_eq!(
        class_and_type(&recorded_dir("container-on-wsl2", "/data/qdrant")),
        (FsClass::Local, "ext4")
    );
}

#[test]
fn a_recorded_root_without_a_mount_table_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = HostRoot::recorded(dir.path());
    let d = collect_data_dirs(&root, &["/srv/db".to_string()]).remove(0);
    assert_eq!(class_and_type(&d), (FsClass::Unknown, "unknown"));
    assert_eq!(d.filesystem.source_of_facts, "none");
    assert!(!d.exists || std::path::Path::new("/srv/db").exists());
}

#[cfg(target_os = "linux")]
#[test]
fn live_temp_dir_is_statfs_d_and_matched_in_the_mount_table() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let given = scratch.path().to_string_lossy().into_owned();
    let d = collect_data_dirs(&HostRoot::live(), std::slice::from_ref(&given)).remove(0);
    assert!(d.exists && d.is_dir);
    assert_eq!(d.writable, Some(true));
    let fs = &d.filesystem;
    assert_eq!(fs.source_of_facts, "statfs+mountinfo", "{fs:?}");
    assert!(
        fs.statfs_magic
            .as_deref()
            .is_some_and(|m| m.starts_with("0x")),
        "{fs:?}"
    );
    assert!(
        fs.free_bytes.is_some_and(|f| f > 0) && fs.total_bytes >= fs.free_bytes,
        "{fs:?}"
    );
    assert_eq!(fs.read_only, Some(false));
    // The class is what the mount table's entry classifies to.
    let table = mounts::read_table(&HostRoot::live()).expect("mount table");
    let canonical = std::fs::canonicalize(scratch.path()).expect("canonicalize");
    let entry =
        mounts::longest_mount_for(&canonical.to_string_lossy(), &table.entries).expect("entry");
    assert_eq!(fs.mount_point.as_deref(), Some(entry.mount_point.as_str()));
    assert_eq!(
        fs.class,
        mounts::classify(&entry.fs_type, &entry.source, &entry.options)
    );
}

#[cfg(target_os = "linux")]
#[test]
fn live_proc_and_a_missing_path() {
    let dirs = collect_data_dirs(
        &HostRoot::live(),
        &["/proc".into(), "/nonexistent/wsl-vecprobe/db".into()],
    );
    assert_eq!(class_and_type(&dirs[0]), (FsClass::Unknown, "proc"));
    assert_eq!(dirs[0].filesystem.statfs_magic.as_deref(), Some("0x9fa0"));
    let missing = &dirs[1];
    assert!(!missing.exists && !missing.is_dir);
    assert_eq!(missing.writable, None);
    assert_eq!(missing.filesystem.statfs_magic, None);
    assert_eq!(
        missing.filesystem.mount_point.as_deref(),
        Some("/"),
        "looked up in the mount table anyway"
    );
}

#[test]
fn statfs_wins_when_the_mount_table_disagrees() {
    let entry = MountEntry {
        mount_point: "/data".into(),
        fs_type: "tmpfs".into(),
        source: "none".into(),
        options: "rw".into(),
        read_only: false,
    };
    let live = LiveChecks {
        magic: Some(0xEF53),
        magic_name: Some("ext4".into()),
        read_only: Some(false),
        free_bytes: Some(1),
        total_bytes: Some(2),
        free_inodes: None,
        total_inodes: None,
        ..Default::default()
    };
    let fs = fs_facts(Some(&entry), "mountinfo", &live);
    if cfg!(unix) {
        assert_eq!((fs.class, fs.fs_type.as_str()), (FsClass::Local, "ext4"));
        assert!(
            fs.source_of_facts.contains("disagrees"),
            "{}",
            fs.source_of_facts
        );
        assert_eq!(fs.mount_point, None);
    }
    assert_eq!(fs.statfs_magic.as_deref(), Some("0xef53"));
    let agreeing = MountEntry {
        fs_type: "ext3".into(),
        ..entry
    };
    let fs = fs_facts(Some(&agreeing), "mountinfo", &live);
    assert_eq!(
        (fs.fs_type.as_str(), fs.source_of_facts.as_str()),
        ("ext3", "statfs+mountinfo")
    );
}

#[test]
fn windows_path_prefixes() {
    assert_eq!(classify_windows_path("C:\\Users\\me\\db"), FsClass::Local);
    assert_eq!(classify_windows_path("\\\\?\\D:\\data"), FsClass::Local);
    assert_eq!(
        classify_windows_path("\\\\wsl$\\Ubuntu\\home\\me"),
        FsClass::WslShare
    );
    assert_eq!(
        classify_windows_path("\\\\wsl.localhost\\Debian\\srv"),
        FsClass::WslShare
    );
    assert_eq!(classify_windows_path("//server/share/db"), FsClass::Network);
    assert_eq!(
        classify_windows_path("\\\\?\\UNC\\server\\share"),
        FsClass::Network
    );
    assert_eq!(classify_windows_path("relative\\db"), FsClass::Unknown);
}
