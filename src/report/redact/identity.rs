//! Who is running: the user name and home directory from the operating system's account
//! database (not from `$USER`/`$HOME`, which anyone can set), plus those variables when they
//! differ, and the host name from the kernel (on Windows: the account's name and profile
//! directory, and the computer name, all from the OS).
//! Everything listed here is hidden by `--redact`.

/// What to hide. Empty strings are ignored.
#[derive(Clone, Debug, Default)]
pub struct Identity {
    pub homes: Vec<String>,
    pub users: Vec<String>,
    pub hosts: Vec<String>,
}

impl Identity {
    /// This process's user, home and host name.
    pub fn current() -> Self {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let account = os_account();
        Identity::from_parts(
            account.clone().map(|a| a.0),
            account.map(|a| a.1),
            os_hostname(),
            |k| env(k),
        )
    }

    /// The OS account and host name first, then the environment's claims when they differ.
    pub fn from_parts(
        os_user: Option<String>,
        os_home: Option<String>,
        os_host: Option<String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let mut id = Identity::default();
        let push = |list: &mut Vec<String>, v: Option<String>| {
            if let Some(v) = v.filter(|v| !v.is_empty())
                && !list.contains(&v)
            {
                list.push(v);
            }
        };
        push(&mut id.users, os_user);
        push(&mut id.users, env("USER"));
        push(&mut id.users, env("USERNAME"));
        push(&mut id.homes, os_home);
        push(&mut id.homes, env("HOME"));
        push(&mut id.homes, env("USERPROFILE"));
        push(&mut id.hosts, os_host);
        push(&mut id.hosts, env("COMPUTERNAME"));
        push(&mut id.hosts, env("HOSTNAME"));
        id
    }
}

#[cfg(unix)]
fn os_account() -> Option<(String, String)> {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| (u.name, crate::host::shown(&u.dir)))
}
#[cfg(windows)]
fn os_account() -> Option<(String, String)> {
    crate::platform::windows::account()
}
#[cfg(not(any(unix, windows)))]
fn os_account() -> Option<(String, String)> {
    None
}

#[cfg(unix)]
fn os_hostname() -> Option<String> {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
}
#[cfg(windows)]
fn os_hostname() -> Option<String> {
    crate::platform::windows::computer_name()
}
#[cfg(not(any(unix, windows)))]
fn os_hostname() -> Option<String> {
    None
}
