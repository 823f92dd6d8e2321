//! Build step: the built-in profiles (`probes/*.toml`) are also compiled to JSON, which the
//! tool deserializes at start-up instead of parsing TOML (a fifth of a healthy `check`'s
//! start). A profile that does not parse here is written as an empty file: the tool then
//! parses its TOML, and reports the error with its line and column as for any profile.

use std::path::Path;

fn main() {
    println!("cargo::rerun-if-changed=probes");
    let out = Path::new(&std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("probes");
    std::fs::create_dir_all(&out).expect("create OUT_DIR/probes");
    let mut names: Vec<String> = std::fs::read_dir("probes")
        .expect("read probes/")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    for name in names {
        println!("cargo::rerun-if-changed=probes/{name}");
        let text = std::fs::read_to_string(Path::new("probes").join(&name)).unwrap_or_default();
        let json = toml::from_str::<toml::Table>(&text)
            .ok()
            .and_then(|table| serde_json::to_string(&table).ok())
            .unwrap_or_default();
        let target = out.join(name.replace(".toml", ".json"));
        std::fs::write(&target, json).expect("write the compiled profile");
    }
}
