//! AF_UNIX stream sockets on Windows (afunix.sys, Windows 10 1803 and later) through socket2:
//! the same round trip as on Unix (socket, bind, listen, connect, accept, one byte each
//! way), and a bind-only call for the path-length measurement. `sun_path` is 108 bytes.

use socket2::{Domain, SockAddr, Socket, Type};
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Duration;

/// Which step failed, and how.
#[derive(Debug)]
pub struct StepError {
    pub step: &'static str,
    pub error: io::Error,
}

fn at(step: &'static str) -> impl Fn(io::Error) -> StepError {
    move |error| StepError { step, error }
}

/// `sun_path` in afunix.h, NUL included.
pub fn sun_path_capacity() -> usize {
    108
}

fn stream(timeout: Duration) -> io::Result<Socket> {
    let s = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    Ok(s)
}

/// The round trip at `path`; the socket file is removed again.
pub fn round_trip(path: &Path, timeout: Duration) -> Result<(), StepError> {
    let addr = SockAddr::unix(path).map_err(at("address"))?;
    let server = stream(timeout).map_err(at("socket"))?;
    server.bind(&addr).map_err(at("bind"))?;
    let result = serve_one(&server, &addr, timeout);
    let _ = std::fs::remove_file(path);
    result
}

fn serve_one(server: &Socket, addr: &SockAddr, timeout: Duration) -> Result<(), StepError> {
    server.listen(4).map_err(at("listen"))?;
    let mut client = stream(timeout).map_err(at("socket"))?;
    client
        .connect_timeout(addr, timeout)
        .or_else(|_| client.connect(addr))
        .map_err(at("connect"))?;
    let (mut accepted, _) = server.accept().map_err(at("accept"))?;
    accepted
        .set_read_timeout(Some(timeout))
        .map_err(at("setsockopt"))?;
    exchange(&mut client, &mut accepted).map_err(at("send/recv"))?;
    exchange(&mut accepted, &mut client).map_err(at("send/recv"))
}

fn exchange(from: &mut Socket, to: &mut Socket) -> io::Result<()> {
    from.write_all(b"x")?;
    let mut b = [0u8; 1];
    to.read_exact(&mut b)?;
    if b[0] == b'x' {
        Ok(())
    } else {
        Err(io::Error::new(io::ErrorKind::InvalidData, "wrong byte"))
    }
}

/// bind() only at `path` (any length up to the stack's own check); the socket file is
/// removed again when the bind succeeded.
pub fn bind_only(path: &Path) -> io::Result<()> {
    let addr = SockAddr::unix(path)?;
    let s = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    s.bind(&addr)?;
    drop(s);
    let _ = std::fs::remove_file(path);
    Ok(())
}
