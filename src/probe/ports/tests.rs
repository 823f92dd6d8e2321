//! The `ports` probe's tests: observations from bind results, and real binds and TIME_WAITs.

use super::*;

fn check(v4: Result<(), &str>, v6: Result<(), &str>) -> PortCheck {
    PortCheck {
        port: 6333,
        backends: vec!["qdrant".into()],
        v4: v4.map_err(String::from),
        v6: v6.map_err(String::from),
        elapsed_ms: 0.1,
    }
}

#[test]
fn a_taken_ipv4_port_fails_with_its_errno_and_owner() {
    let owner = OwnerInfo {
        pid: Some(42),
        command: Some("qdrant".into()),
        uid: Some(1000),
        lookup: "found",
        time_wait: 0,
    };
    let obs = observe(&check(Err("EADDRINUSE"), Ok(())), Some(&owner), false);
    assert_eq!(
        (obs.status, obs.errno.as_deref()),
        (Status::Fail, Some("EADDRINUSE"))
    );
    assert_eq!(
        (obs.id.as_str(), obs.target.as_str()),
        ("port:6333", "loopback:6333")
    );
    assert_eq!(obs.value("owner_pid"), Some(&json!(42)));
    assert_eq!(obs.value("v4.ok"), Some(&json!(false)));
    assert!(obs.message.contains("pid 42 (qdrant)"), "{}", obs.message);
}

#[test]
fn an_ownerless_port_under_mirrored_wsl_says_windows_may_hold_it() {
    let owner = OwnerInfo {
        lookup: "not-found",
        ..OwnerInfo::default()
    };
    let taken = check(Err("EADDRINUSE"), Ok(()));
    assert!(
        observe(&taken, Some(&owner), true)
            .message
            .contains("Windows")
    );
    assert!(
        !observe(&taken, Some(&owner), false)
            .message
            .contains("Windows")
    );
}

#[test]
fn no_ipv6_loopback_is_recorded_not_failed() {
    for e in ["EADDRNOTAVAIL", "EAFNOSUPPORT"] {
        let obs = observe(&check(Ok(()), Err(e)), None, false);
        assert_eq!(obs.status, Status::Pass);
        assert_eq!(obs.value("v6.errno"), Some(&json!(e)));
        assert_eq!(obs.errno, None);
    }
}

#[test]
fn a_taken_ipv6_port_alone_passes_but_says_so() {
    let owner = OwnerInfo {
        lookup: "not-found",
        ..OwnerInfo::default()
    };
    let obs = observe(&check(Ok(()), Err("EADDRINUSE")), Some(&owner), false);
    assert_eq!(obs.status, Status::Pass);
    assert!(
        obs.message.contains("[::1]:6333 is taken"),
        "{}",
        obs.message
    );
    assert_eq!(obs.value("v6.ok"), Some(&json!(false)));
}

#[test]
fn other_errors_fail_and_enosys_names_the_wsl_bug() {
    let obs = observe(&check(Ok(()), Err("EACCES")), None, false);
    assert_eq!(
        (obs.status, obs.errno.as_deref()),
        (Status::Fail, Some("EACCES"))
    );
    let obs = observe(&check(Err("ENOSYS"), Err("ENOSYS")), None, false);
    assert_eq!(obs.status, Status::Fail);
    assert!(
        obs.message.contains("microsoft/WSL#9587"),
        "{}",
        obs.message
    );
}

#[test]
fn binding_a_live_listener_port_gives_eaddrinuse_and_a_free_one_binds() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    assert_eq!(
        try_bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
            .map_err(|e| crate::errno::meaning(&e).to_string()),
        Err("EADDRINUSE".to_string())
    );
    drop(listener);
    assert_eq!(
        try_bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))),
        Ok(())
    );
}

/// std's TcpListener sets SO_REUSEADDR on Unix, as servers do; the TIME_WAIT it leaves
/// blocks a plain bind() (EADDRINUSE) but not one with SO_REUSEADDR.
#[test]
#[cfg(unix)]
fn a_port_left_in_time_wait_still_counts_as_free() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = std::net::TcpStream::connect(addr).unwrap();
    let (server_side, _) = listener.accept().unwrap();
    drop(listener);
    drop(server_side); // the server closes first, so the TIME_WAIT is on the server's port
    drop(client);
    assert_eq!(try_bind(addr), Ok(()));
}

/// The connecting end that closes first keeps its ephemeral port in TIME_WAIT, and a
/// connect never sets SO_REUSEADDR: a server's bind of that port fails for a minute. The
/// lookup names the closed connections as the holder, not "no socket".
#[test]
#[cfg(target_os = "linux")]
fn a_port_kept_by_a_closed_connection_names_time_wait_as_its_holder() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let port = client.local_addr().unwrap().port();
    let (server_side, _) = listener.accept().unwrap();
    drop(client); // the connecting end closes first: its port goes to TIME_WAIT
    drop(server_side);
    let bound = try_bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    assert_eq!(
        bound
            .as_ref()
            .map_err(|e| crate::errno::meaning(e).to_string()),
        Err("EADDRINUSE".to_string())
    );
    let taken = PortCheck {
        port,
        backends: vec!["weaviate-embedded".into()],
        v4: bound,
        v6: Ok(()),
        elapsed_ms: 0.1,
    };
    let deadline = Instant::now() + Duration::from_secs(2);
    let owners = find_owners(std::slice::from_ref(&taken), deadline);
    // At least this connection's end: the kernel may have lent the same ephemeral port
    // to other connections still in TIME_WAIT, towards other destinations.
    assert_eq!((owners[0].lookup, owners[0].pid), ("time-wait", None));
    assert!(owners[0].time_wait >= 1, "{}", owners[0].time_wait);
    let obs = observe(&taken, Some(&owners[0]), false);
    assert_eq!(obs.status, Status::Fail);
    assert!(obs.message.contains("in TIME_WAIT"), "{}", obs.message);
    assert_eq!(obs.value("owner_lookup"), Some(&json!("time-wait")));
    assert_eq!(
        obs.value("owner_time_wait"),
        Some(&json!(owners[0].time_wait))
    );
}
