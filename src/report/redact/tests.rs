use super::*;

fn redactor(vocabulary: &[&str]) -> Redactor {
    let id = Identity {
        homes: vec!["/home/alice".into(), "C:\\Users\\Alice".into()],
        users: vec!["alice".into()],
        hosts: vec!["DESKTOP-N9UN2H3".into(), "vm".into()],
    };
    Redactor::new(&id, &vocabulary.iter().map(|s| s.to_string()).collect())
}

#[test]
fn replaces_home_user_and_host_but_not_inside_words() {
    let r = redactor(&["vm", "max", "map", "count"]);
    assert_eq!(r.text("/home/alice/proj"), "~/proj");
    assert_eq!(r.text("/home/alice2/proj"), "/home/alice2/proj");
    assert_eq!(r.text("/mnt/c/Users/ALICE/x"), "/mnt/c/Users/<user>/x");
    assert_eq!(r.text("c:\\users\\alice\\x"), "~\\x");
    assert_eq!(r.text("Linux desktop-n9un2h3 5.8"), "Linux <host> 5.8");
    assert_eq!(r.text("malice aforethought"), "malice aforethought");
}

#[test]
fn a_name_the_report_uses_is_replaced_only_where_it_stands_as_a_host() {
    let r = redactor(&["vm", "max", "map", "count"]);
    assert_eq!(
        r.text("sudo sysctl -w vm.max_map_count=262144 on the VM"),
        "sudo sysctl -w vm.max_map_count=262144 on the VM"
    );
    assert_eq!(r.text("//vm/share on /data"), "//<host>/share on /data");
    assert_eq!(r.text("root@vm: ready"), "root@<host>: ready");
}

#[test]
fn the_os_account_comes_first_and_the_environment_cannot_replace_it() {
    let env = |k: &str| match k {
        "USER" => Some("alice".to_string()),
        "HOME" => Some("/tmp/fake".to_string()),
        _ => None,
    };
    let id = Identity::from_parts(
        Some("bob".into()),
        Some("/home/bob".into()),
        Some("box".into()),
        env,
    );
    assert_eq!(id.users, ["bob", "alice"]);
    assert_eq!(id.homes, ["/home/bob", "/tmp/fake"]);
    assert_eq!(id.hosts, ["box"]);
}
