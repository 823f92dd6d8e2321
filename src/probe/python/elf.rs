//! A minimal reader of ELF shared objects, enough to learn from the file alone what a Python
//! extension module links against: its dynamic symbols (defined or undefined), its
//! `DT_NEEDED` libraries and `DT_RUNPATH`/`DT_RPATH`, and the bytes behind a data symbol.
//! 32- and 64-bit, either byte order; anything malformed is `None`, never a panic. Only the
//! parts needed are read from the file.

/// Largest single section read (a libsqlite3's `.dynsym` is ~40 KB).
const MAX_READ: u64 = 16 << 20;

const SHT_DYNAMIC: u32 = 6;
const SHT_NOBITS: u32 = 8;
const SHT_DYNSYM: u32 = 11;
const DT_NEEDED: u64 = 1;
const DT_RPATH: u64 = 15;
const DT_RUNPATH: u64 = 29;

/// One dynamic symbol.
#[derive(Debug, Clone, PartialEq)]
pub struct Symbol {
    pub name: String,
    /// False for an undefined (imported) symbol.
    pub defined: bool,
    pub value: u64,
    pub size: u64,
}

/// What an ELF shared object says about its dynamic linking.
#[derive(Clone, Default)]
pub struct Dynamic {
    /// `e_machine` (62 = x86-64, 183 = AArch64).
    pub machine: u16,
    pub symbols: Vec<Symbol>,
    pub needed: Vec<String>,
    pub rpath: Vec<String>,
    pub runpath: Vec<String>,
    sections: Vec<Section>,
    /// Reads more of the file (for `string_symbol`).
    fetch: Option<std::sync::Arc<std::sync::Mutex<Fetch>>>,
}

impl std::fmt::Debug for Dynamic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dynamic")
            .field("machine", &self.machine)
            .field("symbols", &self.symbols.len())
            .field("needed", &self.needed)
            .field("runpath", &self.runpath)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Section {
    kind: u32,
    addr: u64,
    offset: u64,
    size: u64,
    link: u32,
    entsize: u64,
}

/// Is this file an ELF object at all (the first four bytes)?
pub fn is_elf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x7fELF")
}

/// Read the dynamic linking facts of the ELF object at `path`, fetching only the header, the
/// section table and the dynamic sections (a few tens of KB of a 1.5 MB libsqlite3); `None`
/// when it is not a readable ELF object.
pub fn read(path: &std::path::Path) -> Option<Dynamic> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let fetch = move |at: u64, n: u64| -> Option<Vec<u8>> {
        if n > MAX_READ || at.checked_add(n)? > len {
            return None;
        }
        file.seek(SeekFrom::Start(at)).ok()?;
        let mut buf = vec![0; usize::try_from(n).ok()?];
        file.read_exact(&mut buf).ok()?;
        Some(buf)
    };
    parse_with(Box::new(fetch))
}

/// Parse an ELF image held in memory.
pub fn parse(bytes: Vec<u8>) -> Option<Dynamic> {
    let fetch = move |at: u64, n: u64| -> Option<Vec<u8>> {
        let start = usize::try_from(at).ok()?;
        let end = start.checked_add(usize::try_from(n).ok()?)?;
        bytes.get(start..end).map(<[u8]>::to_vec)
    };
    parse_with(Box::new(fetch))
}

type Fetch = Box<dyn FnMut(u64, u64) -> Option<Vec<u8>> + Send>;

struct Reader<'a> {
    b: &'a [u8],
    big: bool,
    wide: bool,
}

impl Reader<'_> {
    fn u16(&self, at: u64) -> Option<u16> {
        let s: [u8; 2] = self.slice(at, 2)?.try_into().ok()?;
        Some(if self.big {
            u16::from_be_bytes(s)
        } else {
            u16::from_le_bytes(s)
        })
    }
    fn u32(&self, at: u64) -> Option<u32> {
        let s: [u8; 4] = self.slice(at, 4)?.try_into().ok()?;
        Some(if self.big {
            u32::from_be_bytes(s)
        } else {
            u32::from_le_bytes(s)
        })
    }
    fn u64(&self, at: u64) -> Option<u64> {
        let s: [u8; 8] = self.slice(at, 8)?.try_into().ok()?;
        Some(if self.big {
            u64::from_be_bytes(s)
        } else {
            u64::from_le_bytes(s)
        })
    }
    /// A word: 8 bytes in ELFCLASS64, 4 in ELFCLASS32.
    fn word(&self, at: u64) -> Option<u64> {
        if self.wide {
            self.u64(at)
        } else {
            self.u32(at).map(u64::from)
        }
    }
    fn slice(&self, at: u64, len: u64) -> Option<&[u8]> {
        let start = usize::try_from(at).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        self.b.get(start..end)
    }
}

/// The NUL-terminated string at `at` of a string table.
fn cstr(table: &[u8], at: u64) -> Option<String> {
    let rest = table.get(usize::try_from(at).ok()?..)?;
    let end = rest.iter().position(|&c| c == 0)?;
    Some(String::from_utf8_lossy(&rest[..end]).into_owned())
}

fn parse_with(mut fetch: Fetch) -> Option<Dynamic> {
    let header = fetch(0, 52)?;
    if !is_elf(&header) {
        return None;
    }
    let wide = match header[4] {
        1 => false,
        2 => true,
        _ => return None,
    };
    let big = match header[5] {
        1 => false,
        2 => true,
        _ => return None,
    };
    let header = if wide { fetch(0, 64)? } else { header };
    let r = Reader {
        b: &header,
        big,
        wide,
    };
    let machine = r.u16(18)?;
    let (shoff, shentsize, shnum) = if wide {
        (r.u64(0x28)?, r.u16(0x3a)?, r.u16(0x3c)?)
    } else {
        (u64::from(r.u32(0x20)?), r.u16(0x2e)?, r.u16(0x30)?)
    };
    let table = fetch(shoff, u64::from(shentsize) * u64::from(shnum))?;
    let t = Reader {
        b: &table,
        big,
        wide,
    };
    let w = if wide { 8 } else { 4 };
    let mut sections = Vec::with_capacity(usize::from(shnum));
    for i in 0..u64::from(shnum) {
        let at = i * u64::from(shentsize);
        // sh_name(4) sh_type(4) sh_flags(w) sh_addr(w) sh_offset(w) sh_size(w) sh_link(4)
        // sh_info(4) sh_addralign(w) sh_entsize(w)
        sections.push(Section {
            kind: t.u32(at + 4)?,
            addr: t.word(at + 8 + w)?,
            offset: t.word(at + 8 + 2 * w)?,
            size: t.word(at + 8 + 3 * w)?,
            link: t.u32(at + 8 + 4 * w)?,
            entsize: t.word(at + 16 + 5 * w)?,
        });
    }
    let mut contents = |s: &Section| fetch(s.offset, s.size);
    let linked = |s: &Section| sections.get(usize::try_from(s.link).ok()?).copied();
    let mut out = Dynamic {
        machine,
        ..Default::default()
    };
    for s in sections.iter().filter(|s| s.kind == SHT_DYNSYM) {
        let names = contents(&linked(s)?)?;
        let body = contents(s)?;
        let r = Reader {
            b: &body,
            big,
            wide,
        };
        let ent = if wide { 24 } else { 16 };
        for i in 0..s.size / ent {
            let at = i * ent;
            let name_off = u64::from(r.u32(at)?);
            let (value, size, shndx) = if wide {
                (r.u64(at + 8)?, r.u64(at + 16)?, r.u16(at + 6)?)
            } else {
                (
                    u64::from(r.u32(at + 4)?),
                    u64::from(r.u32(at + 8)?),
                    r.u16(at + 14)?,
                )
            };
            if name_off == 0 {
                continue;
            }
            out.symbols.push(Symbol {
                name: cstr(&names, name_off)?,
                defined: shndx != 0,
                value,
                size,
            });
        }
    }
    for s in sections.iter().filter(|s| s.kind == SHT_DYNAMIC) {
        let names = contents(&linked(s)?)?;
        let body = contents(s)?;
        let r = Reader {
            b: &body,
            big,
            wide,
        };
        let ent = if s.entsize > 0 { s.entsize } else { 2 * w };
        for i in 0..s.size / ent {
            let at = i * ent;
            let (tag, val) = (r.word(at)?, r.word(at + w)?);
            match tag {
                0 => break,
                DT_NEEDED => out.needed.push(cstr(&names, val)?),
                DT_RPATH => out
                    .rpath
                    .extend(cstr(&names, val)?.split(':').map(String::from)),
                DT_RUNPATH => out
                    .runpath
                    .extend(cstr(&names, val)?.split(':').map(String::from)),
                _ => {}
            }
        }
    }
    out.sections = sections;
    out.fetch = Some(std::sync::Arc::new(std::sync::Mutex::new(fetch)));
    Some(out)
}

impl Dynamic {
    /// The dynamic symbol called `name`, defined or not.
    pub fn symbol(&self, name: &str) -> Option<&Symbol> {
        self.symbols.iter().find(|s| s.name == name)
    }

    /// The NUL-terminated string a defined data symbol holds (`sqlite3_version` → `3.40.1`).
    pub fn string_symbol(&self, name: &str) -> Option<String> {
        let sym = self.symbol(name).filter(|s| s.defined && s.size > 0)?;
        let sec = self
            .sections
            .iter()
            .find(|s| s.kind != SHT_NOBITS && s.addr <= sym.value && sym.value < s.addr + s.size)?;
        let mut fetch = self.fetch.as_ref()?.lock().ok()?;
        let raw = fetch(sec.offset + (sym.value - sec.addr), sym.size.min(256))?;
        let text = raw.split(|&c| c == 0).next()?;
        Some(String::from_utf8_lossy(text).into_owned())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn this_test_binary_imports_from_libc() {
        let me = read(std::path::Path::new("/proc/self/exe")).expect("an ELF");
        assert!(
            me.needed.iter().any(|n| n.starts_with("libc.so")),
            "{:?}",
            me.needed
        );
        let write = me.symbol("write").expect("write is imported");
        assert!(!write.defined);
    }

    #[test]
    fn what_is_not_elf_is_none() {
        assert!(parse(b"#!/bin/sh\necho hello\n".to_vec()).is_none());
        assert!(parse(b"\x7fELF\x02\x01".to_vec()).is_none());
        let mut truncated = std::fs::read("/proc/self/exe").unwrap();
        truncated.truncate(200);
        // Section headers are past the end: no answer rather than a wrong one.
        assert!(parse(truncated).is_none());
    }
}
