//! `--redact`: replace the user name, home path and host name wherever they appear in the
//! report, so it can be pasted publicly. Works on the finished report, so every format
//! (table, JSON, Markdown) is redacted the same way.

use super::Report;
use serde_json::Value;

/// What to hide. Empty strings are ignored.
#[derive(Clone, Debug, Default)]
pub struct Identity {
    pub home: Option<String>,
    pub user: Option<String>,
    pub host: Option<String>,
}

impl Identity {
    /// This process's user, home and host name.
    pub fn current() -> Self {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Identity {
            home: env("HOME").or_else(|| env("USERPROFILE")),
            user: env("USER")
                .or_else(|| env("USERNAME"))
                .or_else(current_user_name),
            host: hostname()
                .or_else(|| env("COMPUTERNAME"))
                .or_else(|| env("HOSTNAME")),
        }
    }
}

#[cfg(unix)]
fn current_user_name() -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
}
#[cfg(not(unix))]
fn current_user_name() -> Option<String> {
    None
}

#[cfg(unix)]
fn hostname() -> Option<String> {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
}
#[cfg(not(unix))]
fn hostname() -> Option<String> {
    None
}

pub fn redact(report: &Report, id: &Identity) -> Report {
    let mut v = match serde_json::to_value(report) {
        Ok(v) => v,
        Err(_) => return report.clone(),
    };
    walk(&mut v, id);
    let mut out: Report = serde_json::from_value(v).unwrap_or_else(|_| report.clone());
    out.run.redacted = true;
    out
}

fn walk(v: &mut Value, id: &Identity) {
    match v {
        Value::String(s) => *s = redact_text(s, id),
        Value::Array(a) => a.iter_mut().for_each(|x| walk(x, id)),
        Value::Object(o) => o.values_mut().for_each(|x| walk(x, id)),
        _ => {}
    }
}

/// Replace the home path by `~`, then the host and user names (as whole words) by
/// `<host>` and `<user>`.
pub fn redact_text(s: &str, id: &Identity) -> String {
    let mut out = s.to_string();
    if let Some(home) = id
        .home
        .as_deref()
        .map(|h| h.trim_end_matches(['/', '\\']))
        .filter(|h| h.len() > 1)
    {
        out = out.replace(home, "~");
    }
    if let Some(host) = id.host.as_deref().filter(|h| !h.is_empty()) {
        out = replace_word(&out, host, "<host>");
    }
    if let Some(user) = id.user.as_deref().filter(|u| !u.is_empty()) {
        out = replace_word(&out, user, "<user>");
    }
    out
}

/// Replace `word` where it is not part of a longer alphanumeric word.
fn replace_word(s: &str, word: &str, with: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    while let Some(pos) = rest.find(word) {
        let before = rest[..pos].chars().next_back();
        let after = rest[pos + word.len()..].chars().next();
        out.push_str(&rest[..pos]);
        if before.is_some_and(is_word) || after.is_some_and(is_word) {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = &rest[pos + word.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn replaces_home_user_and_host_but_not_inside_words() {
        let id = Identity {
            home: Some("/home/alice".into()),
            user: Some("alice".into()),
            host: Some("DESKTOP-N9UN2H3".into()),
        };
        assert_eq!(redact_text("/home/alice/proj", &id), "~/proj");
        assert_eq!(
            redact_text("/mnt/c/Users/alice/x", &id),
            "/mnt/c/Users/<user>/x"
        );
        assert_eq!(
            redact_text("Linux DESKTOP-N9UN2H3 5.8", &id),
            "Linux <host> 5.8"
        );
        assert_eq!(
            redact_text("malice aforethought", &id),
            "malice aforethought"
        );
    }
}
