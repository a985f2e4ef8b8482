//! The listening socket: created with socket2 so that `SO_REUSEPORT` can be set before
//! `bind`, which lets several processes (node:cluster workers) listen on one port.

use std::io;
use std::net::{SocketAddr, TcpListener};

use socket2::{Domain, Protocol, Socket, Type};

/// Connections the kernel queues for `accept` (Node's net uses 511; bursts of players
/// joining a stream at once are the reason for more).
const BACKLOG: i32 = 1024;

/// Binds and listens on `addr`. `reuse_port` sets `SO_REUSEPORT`: every socket that
/// set it may bind the same address, and Linux spreads incoming connections across
/// them (by a hash of the 4-tuple). On platforms without it, asking for it is an
/// `Unsupported` error.
pub fn listen_socket(addr: SocketAddr, reuse_port: bool) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // As std's TcpListener::bind does: a restarted server can bind at once, without
    // waiting for TIME_WAIT connections of the previous one (on Windows the option
    // means something else, so std leaves it off there).
    #[cfg(not(windows))]
    socket.set_reuse_address(true)?;
    if reuse_port {
        set_reuse_port(&socket)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

#[cfg(all(
    unix,
    not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
))]
fn set_reuse_port(socket: &Socket) -> io::Result<()> {
    socket.set_reuse_port(true)
}

#[cfg(not(all(
    unix,
    not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
)))]
fn set_reuse_port(_socket: &Socket) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "reusePort (SO_REUSEPORT) is not supported on this platform",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 0))
    }

    #[test]
    fn two_sockets_with_reuse_port_listen_on_one_port() {
        let first = listen_socket(loopback(), true).unwrap();
        let addr = first.local_addr().unwrap();
        let second = listen_socket(addr, true).unwrap();
        assert_eq!(second.local_addr().unwrap(), addr);
    }

    #[test]
    fn without_reuse_port_a_bound_port_is_in_use() {
        let first = listen_socket(loopback(), false).unwrap();
        let err = listen_socket(first.local_addr().unwrap(), false).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    }
}
