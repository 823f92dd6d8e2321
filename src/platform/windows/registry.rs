//! Reading single registry values (`RegGetValueW`), for stable facts such as
//! `LongPathsEnabled` and WSL's `Lxss` key. Read-only; nothing is ever written.

use super::{from_wide, wide};
use windows_sys::Win32::Foundation::ERROR_SUCCESS;
use windows_sys::Win32::System::Registry::{
    HKEY, HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE, KEY_READ, RRF_RT_REG_DWORD, RRF_RT_REG_SZ,
    RegCloseKey, RegGetValueW, RegOpenKeyExW,
};

/// Whether a key exists (opened read-only and closed again).
pub fn key_exists(hive: Hive, subkey: &str) -> bool {
    let k = wide(subkey.as_ref());
    let mut key: HKEY = std::ptr::null_mut();
    // SAFETY: NUL-terminated subkey; `key` receives a handle that is closed below.
    let rc = unsafe { RegOpenKeyExW(hive.key(), k.as_ptr(), 0, KEY_READ, &mut key) };
    if rc == ERROR_SUCCESS {
        // SAFETY: closing the key opened above.
        unsafe { RegCloseKey(key) };
        true
    } else {
        false
    }
}

/// The hive a value is read from.
#[derive(Clone, Copy, Debug)]
pub enum Hive {
    LocalMachine,
    CurrentUser,
}

impl Hive {
    fn key(self) -> HKEY {
        match self {
            Hive::LocalMachine => HKEY_LOCAL_MACHINE,
            Hive::CurrentUser => HKEY_CURRENT_USER,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Hive::LocalMachine => "HKLM",
            Hive::CurrentUser => "HKCU",
        }
    }
}

/// A REG_DWORD value; Err is the Win32 error (ERROR_FILE_NOT_FOUND when absent).
pub fn dword(hive: Hive, subkey: &str, value: &str) -> Result<u32, i32> {
    let (k, v) = (wide(subkey.as_ref()), wide(value.as_ref()));
    let mut data = 0u32;
    let mut len = 4u32;
    // SAFETY: NUL-terminated key/value names; `data` holds 4 bytes as `len` says.
    let rc = unsafe {
        RegGetValueW(
            hive.key(),
            k.as_ptr(),
            v.as_ptr(),
            RRF_RT_REG_DWORD,
            std::ptr::null_mut(),
            (&mut data as *mut u32).cast(),
            &mut len,
        )
    };
    if rc == ERROR_SUCCESS {
        Ok(data)
    } else {
        Err(rc as i32)
    }
}

/// A REG_SZ value (up to 1024 UTF-16 units).
pub fn string(hive: Hive, subkey: &str, value: &str) -> Result<String, i32> {
    let (k, v) = (wide(subkey.as_ref()), wide(value.as_ref()));
    let mut buf = vec![0u16; 1024];
    let mut len = (buf.len() * 2) as u32;
    // SAFETY: as in `dword`; `len` is the buffer's size in bytes.
    let rc = unsafe {
        RegGetValueW(
            hive.key(),
            k.as_ptr(),
            v.as_ptr(),
            RRF_RT_REG_SZ,
            std::ptr::null_mut(),
            buf.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if rc == ERROR_SUCCESS {
        Ok(from_wide(&buf))
    } else {
        Err(rc as i32)
    }
}
