//! Paths across the agent's pipe, exactly as the OS has them: JSON strings carry UTF-8 only,
//! and a data dir's name need not be UTF-8 (Unix bytes) or valid UTF-16 (Windows). A path
//! that is valid Unicode travels as `u:<text>`; any other as `x:<hex>` of its bytes (Unix) or
//! of its UTF-16 units, big-endian (Windows).

use std::path::{Path, PathBuf};

pub fn encode(path: &Path) -> String {
    if let Some(text) = path.to_str() {
        return format!("u:{text}");
    }
    let mut out = String::from("x:");
    for byte in raw_bytes(path) {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

pub fn decode(encoded: &str) -> Option<PathBuf> {
    if let Some(text) = encoded.strip_prefix("u:") {
        return Some(PathBuf::from(text));
    }
    let hex = encoded.strip_prefix("x:")?;
    if hex.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    from_raw_bytes(bytes?)
}

#[cfg(unix)]
fn raw_bytes(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().to_vec()
}

#[cfg(unix)]
fn from_raw_bytes(bytes: Vec<u8>) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
}

#[cfg(windows)]
fn raw_bytes(path: &Path) -> Vec<u8> {
    use std::os::windows::ffi::OsStrExt;
    path.as_os_str()
        .encode_wide()
        .flat_map(u16::to_be_bytes)
        .collect()
}

#[cfg(windows)]
fn from_raw_bytes(bytes: Vec<u8>) -> Option<PathBuf> {
    use std::os::windows::ffi::OsStringExt;
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let wide: Vec<u16> = bytes
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    Some(PathBuf::from(std::ffi::OsString::from_wide(&wide)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unicode_path_travels_as_text() {
        let p = Path::new("/data/vectors é");
        assert_eq!(encode(p), "u:/data/vectors é");
        assert_eq!(decode(&encode(p)).unwrap(), p);
    }

    #[cfg(unix)]
    #[test]
    fn a_non_utf8_path_travels_byte_for_byte() {
        use std::os::unix::ffi::OsStrExt;
        let p = Path::new(std::ffi::OsStr::from_bytes(b"/tmp/caf\xe9"));
        assert_eq!(encode(p), "x:2f746d702f636166e9");
        assert_eq!(decode(&encode(p)).unwrap(), p);
    }

    #[cfg(windows)]
    #[test]
    fn an_unpaired_surrogate_travels_unit_for_unit() {
        use std::os::windows::ffi::OsStringExt;
        let p = PathBuf::from(std::ffi::OsString::from_wide(&[0x43, 0x3a, 0xd800]));
        assert_eq!(decode(&encode(&p)).unwrap(), p);
    }

    #[test]
    fn garbage_is_refused_not_guessed() {
        assert_eq!(decode("x:abc"), None);
        assert_eq!(decode("x:zz"), None);
        assert_eq!(decode("/plain"), None);
    }
}
