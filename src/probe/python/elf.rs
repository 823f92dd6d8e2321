//! A minimal reader of ELF shared objects, enough to learn from the file alone what a Python
//! extension module links against: its dynamic symbols (defined or undefined), its
//! `DT_NEEDED` libraries and `DT_RUNPATH`/`DT_RPATH`, and the bytes behind a data symbol.
//! 32- and 64-bit, either byte order; anything malformed is `None`, never a panic.

/// Largest file read (a libsqlite3 is ~1.5 MB, an extension module a few hundred KB).
const MAX_FILE: u64 = 64 << 20;

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
#[derive(Debug, Clone, Default)]
pub struct Dynamic {
    /// `e_machine` (62 = x86-64, 183 = AArch64).
    pub machine: u16,
    pub symbols: Vec<Symbol>,
    pub needed: Vec<String>,
    pub rpath: Vec<String>,
    pub runpath: Vec<String>,
    bytes: Vec<u8>,
    sections: Vec<Section>,
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

/// Read `path` (at most 64 MiB); `None` when it is not a readable ELF object.
pub fn read(path: &std::path::Path) -> Option<Dynamic> {
    use std::io::Read;
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE).read_to_end(&mut bytes).ok()?;
    parse(bytes)
}

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
    fn cstr(&self, at: u64) -> Option<String> {
        let rest = self.b.get(usize::try_from(at).ok()?..)?;
        let end = rest.iter().position(|&c| c == 0)?;
        Some(String::from_utf8_lossy(&rest[..end]).into_owned())
    }
}

/// Parse the section headers, `.dynsym` and `.dynamic` of an ELF image.
pub fn parse(bytes: Vec<u8>) -> Option<Dynamic> {
    if !is_elf(&bytes) || bytes.len() < 52 {
        return None;
    }
    let wide = match bytes[4] {
        1 => false,
        2 => true,
        _ => return None,
    };
    let big = match bytes[5] {
        1 => false,
        2 => true,
        _ => return None,
    };
    let r = Reader {
        b: &bytes,
        big,
        wide,
    };
    let machine = r.u16(18)?;
    let (shoff, shentsize, shnum) = if wide {
        (r.u64(0x28)?, r.u16(0x3a)?, r.u16(0x3c)?)
    } else {
        (u64::from(r.u32(0x20)?), r.u16(0x2e)?, r.u16(0x30)?)
    };
    let mut sections = Vec::with_capacity(usize::from(shnum));
    for i in 0..u64::from(shnum) {
        let at = shoff.checked_add(i.checked_mul(u64::from(shentsize))?)?;
        let w = if wide { 8 } else { 4 };
        // sh_name(4) sh_type(4) sh_flags(w) sh_addr(w) sh_offset(w) sh_size(w) sh_link(4)
        // sh_info(4) sh_addralign(w) sh_entsize(w)
        sections.push(Section {
            kind: r.u32(at + 4)?,
            addr: r.word(at + 8 + w)?,
            offset: r.word(at + 8 + 2 * w)?,
            size: r.word(at + 8 + 3 * w)?,
            link: r.u32(at + 8 + 4 * w)?,
            entsize: r.word(at + 16 + 5 * w)?,
        });
    }
    let strtab = |s: &Section| sections.get(usize::try_from(s.link).ok()?).copied();
    let mut out = Dynamic {
        machine,
        ..Default::default()
    };
    for s in sections.iter().filter(|s| s.kind == SHT_DYNSYM) {
        let names = strtab(s)?;
        let ent = if wide { 24 } else { 16 };
        for i in 0..s.size / ent {
            let at = s.offset + i * ent;
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
                name: r.cstr(names.offset + name_off)?,
                defined: shndx != 0,
                value,
                size,
            });
        }
    }
    for s in sections.iter().filter(|s| s.kind == SHT_DYNAMIC) {
        let names = strtab(s)?;
        let ent = if s.entsize > 0 {
            s.entsize
        } else if wide {
            16
        } else {
            8
        };
        let w = if wide { 8 } else { 4 };
        for i in 0..s.size / ent {
            let at = s.offset + i * ent;
            let (tag, val) = (r.word(at)?, r.word(at + w)?);
            let text = || r.cstr(names.offset + val);
            match tag {
                0 => break,
                DT_NEEDED => out.needed.push(text()?),
                DT_RPATH => out.rpath.extend(text()?.split(':').map(String::from)),
                DT_RUNPATH => out.runpath.extend(text()?.split(':').map(String::from)),
                _ => {}
            }
        }
    }
    out.sections = sections;
    out.bytes = bytes;
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
        let at = usize::try_from(sec.offset + (sym.value - sec.addr)).ok()?;
        let len = usize::try_from(sym.size).ok()?;
        let raw = self.bytes.get(at..at.checked_add(len)?)?;
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
