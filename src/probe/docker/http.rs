//! The Docker Engine endpoint (from `DOCKER_HOST`, loopback only) and a minimal HTTP/1.0 GET
//! over it, bounded by a deadline: enough for `/_ping` and `/info`, nothing more.

use socket2::{Domain, SockAddr, Socket, Type};
use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where the daemon would be reached.
#[derive(Debug, Clone, PartialEq)]
pub enum Endpoint {
    Unix(PathBuf),
    /// A Windows named pipe (`\\.\pipe\docker_engine`, Docker Desktop's default).
    Pipe(PathBuf),
    Tcp(SocketAddr),
    /// Not probed, and why.
    NotProbed(String),
}

impl Endpoint {
    /// How the endpoint is shown in the report (`/var/run/docker.sock`, `tcp://127.0.0.1:2375`).
    pub fn display(&self) -> Option<String> {
        match self {
            Endpoint::Unix(p) | Endpoint::Pipe(p) => Some(crate::host::shown(p)),
            Endpoint::Tcp(a) => Some(format!("tcp://{a}")),
            Endpoint::NotProbed(_) => None,
        }
    }
}

/// The endpoint for a `DOCKER_HOST` value (None/empty: the platform default). TCP endpoints
/// are probed only on loopback and without TLS; the value itself is never echoed, it may
/// name a private host.
pub fn endpoint(docker_host: Option<&str>, tls_verify: bool) -> Endpoint {
    let value = docker_host.map(str::trim).filter(|v| !v.is_empty());
    let Some(value) = value else {
        return if cfg!(unix) {
            Endpoint::Unix(PathBuf::from("/var/run/docker.sock"))
        } else {
            Endpoint::Pipe(PathBuf::from(DEFAULT_PIPE))
        };
    };
    if let Some(path) = value.strip_prefix("npipe://") {
        // `npipe:////./pipe/docker_engine` → `\\.\pipe\docker_engine`; only local pipes.
        let path = path.replace('/', "\\");
        return if cfg!(windows) && path.starts_with("\\\\.\\pipe\\") {
            Endpoint::Pipe(PathBuf::from(path))
        } else {
            Endpoint::NotProbed(
                "DOCKER_HOST is a named pipe; probed only on Windows, and only a local one".into(),
            )
        };
    }
    if let Some(path) = value.strip_prefix("unix://") {
        return if cfg!(unix) {
            Endpoint::Unix(PathBuf::from(path))
        } else {
            Endpoint::NotProbed("DOCKER_HOST is a unix socket; not probed on this OS yet".into())
        };
    }
    if let Some(rest) = value.strip_prefix("tcp://") {
        return tcp_endpoint(rest, tls_verify);
    }
    Endpoint::NotProbed(format!(
        "DOCKER_HOST is {}; only unix:// and loopback tcp:// are probed (its value is not shown: it may carry credentials)",
        shape_of(value)
    ))
}

/// `endpoint` for a `DOCKER_HOST` that need not be valid Unicode: a `unix://` socket path
/// is kept byte for byte (and shown escaped); any other non-Unicode value is not probed.
pub fn endpoint_os(docker_host: Option<&OsStr>, tls_verify: bool) -> Endpoint {
    let Some(value) = docker_host else {
        return endpoint(None, tls_verify);
    };
    if let Some(text) = value.to_str() {
        return endpoint(Some(text), tls_verify);
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        if let Some(path) = value.as_bytes().strip_prefix(b"unix://") {
            return Endpoint::Unix(PathBuf::from(OsStr::from_bytes(path)));
        }
    }
    Endpoint::NotProbed(
        "DOCKER_HOST is not valid Unicode and not a unix:// socket; not probed (its value is not shown)"
            .into(),
    )
}

/// What a DOCKER_HOST value looks like, without any of it: only a scheme from a fixed list is
/// named, since anything else (`user:pw@host:2375` has no `scheme://`) may be a secret.
fn shape_of(value: &str) -> &'static str {
    const KNOWN: [(&str, &str); 6] = [
        ("ssh://", "an ssh:// endpoint"),
        ("npipe://", "a named pipe (npipe://)"),
        ("fd://", "a systemd socket (fd://)"),
        ("http://", "an http:// URL"),
        ("https://", "an https:// URL"),
        ("tcp://", "a tcp:// endpoint"),
    ];
    let lower = value.to_ascii_lowercase();
    KNOWN
        .iter()
        .find(|(scheme, _)| lower.starts_with(scheme))
        .map(|(_, shape)| *shape)
        .unwrap_or(if value.contains("://") {
            "a URL with an unrecognised scheme"
        } else {
            "not a URL (no scheme://)"
        })
}

fn tcp_endpoint(rest: &str, tls_verify: bool) -> Endpoint {
    let authority = rest.split('/').next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') => (h, p.parse::<u16>().ok()),
        _ => (authority, None),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip = if host.eq_ignore_ascii_case("localhost") {
        Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
    } else {
        host.parse::<IpAddr>().ok()
    };
    match ip {
        Some(ip) if ip.is_loopback() => {
            let port = port.unwrap_or(if tls_verify { 2376 } else { 2375 });
            if tls_verify || port == 2376 {
                Endpoint::NotProbed("DOCKER_HOST is a TLS endpoint; not probed".into())
            } else {
                Endpoint::Tcp(SocketAddr::new(ip, port))
            }
        }
        _ => Endpoint::NotProbed(
            "DOCKER_HOST is tcp:// to a host that is not loopback; not probed".into(),
        ),
    }
}

/// Docker Desktop's engine pipe on Windows.
pub const DEFAULT_PIPE: &str = "\\\\.\\pipe\\docker_engine";

/// An HTTP answer: status code and body (de-chunked).
#[derive(Debug, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// `GET path` over a fresh connection; everything (connect, send, read to EOF) ends by `deadline`.
pub fn get(ep: &Endpoint, path: &str, deadline: Instant) -> io::Result<Answer> {
    let left = || {
        let d = deadline.saturating_duration_since(Instant::now());
        if d.is_zero() {
            Err(io::Error::from(io::ErrorKind::TimedOut))
        } else {
            Ok(d)
        }
    };
    let (sock, addr) = match ep {
        #[cfg(unix)]
        Endpoint::Unix(p) => (
            Socket::new(Domain::UNIX, Type::STREAM, None)?,
            SockAddr::unix(p)?,
        ),
        Endpoint::Tcp(a) => (
            Socket::new(Domain::for_address(*a), Type::STREAM, None)?,
            SockAddr::from(*a),
        ),
        Endpoint::Pipe(p) => return get_over_pipe(p, path, deadline),
        _ => return Err(io::ErrorKind::Unsupported.into()),
    };
    sock.connect_timeout(&addr, left()?)?;
    sock.set_write_timeout(Some(left()?))?;
    let request =
        format!("GET {path} HTTP/1.0\r\nHost: docker\r\nUser-Agent: wsl-vecprobe\r\n\r\n");
    (&sock).write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        sock.set_read_timeout(Some(left()?))?;
        match (&sock).read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        if raw.len() > 4 << 20 {
            break; // /info is a few KiB; never buffer without bound
        }
    }
    parse(&raw).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an HTTP response"))
}

/// `GET path` over a named pipe. Pipe reads have no timeout of their own, so the exchange
/// runs on a helper thread and is abandoned at the deadline (the thread ends when the
/// daemon answers or closes, or with the process). Opening a pipe that does not exist fails
/// at once (ERROR_FILE_NOT_FOUND), one whose instances are all busy with ERROR_PIPE_BUSY.
fn get_over_pipe(pipe: &std::path::Path, path: &str, deadline: Instant) -> io::Result<Answer> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(pipe)?;
    let request =
        format!("GET {path} HTTP/1.0\r\nHost: docker\r\nUser-Agent: wsl-vecprobe\r\n\r\n");
    let (tx, rx) = std::sync::mpsc::channel();
    crate::spawn::thread("docker-pipe", move || {
        let result = (|| {
            file.write_all(request.as_bytes())?;
            let mut raw = Vec::new();
            let mut buf = [0u8; 8192];
            loop {
                match file.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => raw.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => break,
                    Err(e) => return Err(e),
                }
                // HTTP/1.0: the daemon closes after the body; stop early once it is complete.
                if let Some(a) = parse(&raw)
                    && complete(&raw, &a)
                {
                    return Ok(a);
                }
                if raw.len() > 4 << 20 {
                    break;
                }
            }
            parse(&raw)
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an HTTP response"))
        })();
        let _ = tx.send(result);
    })?;
    let left = deadline.saturating_duration_since(Instant::now());
    rx.recv_timeout(left)
        .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
}

/// Whether a parsed answer holds its whole body (Content-Length reached).
fn complete(raw: &[u8], answer: &Answer) -> bool {
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    head.lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .is_some_and(|n| answer.body.len() >= n)
}

/// Parse a complete HTTP/1.x response.
pub fn parse(raw: &[u8]) -> Option<Answer> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let body = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    if !status_line.starts_with("HTTP/") {
        return None;
    }
    let status = status_line.split_whitespace().nth(1)?.parse().ok()?;
    let chunked = lines.any(|l| {
        l.split_once(':').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("transfer-encoding")
                && v.trim().eq_ignore_ascii_case("chunked")
        })
    });
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    Some(Answer { status, body })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..eol]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

/// Errno name for a failed exchange; timeouts of any flavour are ETIMEDOUT.
pub fn errno_of(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => "ETIMEDOUT".into(),
        _ => crate::errno::io_error_name(e),
    }
}

/// Upper bound for each exchange with the daemon.
pub const EXCHANGE_TIMEOUT: Duration = Duration::from_millis(300);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_host_values_map_to_endpoints() {
        let unix_default = endpoint(None, false);
        if cfg!(unix) {
            assert_eq!(unix_default, Endpoint::Unix("/var/run/docker.sock".into()));
            assert_eq!(
                endpoint(Some("unix:///run/user/1000/docker.sock"), false),
                Endpoint::Unix("/run/user/1000/docker.sock".into())
            );
            assert_eq!(endpoint(Some(""), false), unix_default);
        }
        assert_eq!(
            endpoint(Some("tcp://127.0.0.1:2375"), false),
            Endpoint::Tcp("127.0.0.1:2375".parse().unwrap())
        );
        assert_eq!(
            endpoint(Some("tcp://localhost"), false),
            Endpoint::Tcp("127.0.0.1:2375".parse().unwrap())
        );
        assert_eq!(
            endpoint(Some("tcp://[::1]:2375/"), false),
            Endpoint::Tcp("[::1]:2375".parse().unwrap())
        );
        for not_probed in [
            "tcp://10.0.0.5:2375",
            "tcp://docker.example:2375",
            "ssh://me@box",
            "tcp://127.0.0.1:2376",
        ] {
            let ep = endpoint(Some(not_probed), false);
            let Endpoint::NotProbed(why) = ep else {
                panic!("{not_probed} probed")
            };
            assert!(
                !why.contains("example") && !why.contains("10.0.0.5"),
                "{why}"
            );
        }
        let pipe = endpoint(Some("npipe:////./pipe/docker_engine"), false);
        if cfg!(windows) {
            assert_eq!(pipe, Endpoint::Pipe(DEFAULT_PIPE.into()));
            assert_eq!(endpoint(None, false), pipe);
        } else {
            assert!(matches!(pipe, Endpoint::NotProbed(_)));
        }
        assert!(matches!(
            endpoint(Some("tcp://127.0.0.1:2375"), true),
            Endpoint::NotProbed(_)
        ));
    }

    #[test]
    fn parses_plain_and_chunked_answers() {
        let plain = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nOK";
        assert_eq!(
            parse(plain),
            Some(Answer {
                status: 200,
                body: b"OK".to_vec()
            })
        );
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n";
        assert_eq!(parse(chunked).unwrap().body, b"{\"a\":1}");
        assert_eq!(parse(b"garbage"), None);
        assert_eq!(parse(b"SSH-2.0-OpenSSH\r\n\r\n"), None);
    }
}
