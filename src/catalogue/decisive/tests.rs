use super::*;

fn reason(id: &str, outcome: Outcome, effect: Effect, status: Status) -> Reason {
    Reason {
        requirement: id.into(),
        probe: format!("probe.{id}"),
        target: "host".into(),
        status,
        errno: None,
        outcome,
        effect,
        observed: format!("{id} observed"),
        holder: None,
        explain: String::new(),
        remediation: format!("fix {id}"),
        source: String::new(),
    }
}

#[test]
fn every_fix_shown_has_its_evidence_and_the_order_is_the_same() {
    let reasons = [
        reason("tmpfs", Outcome::Violated, Effect::Degrade, Status::Fail),
        reason("docker", Outcome::Violated, Effect::Degrade, Status::Fail),
        reason("ok", Outcome::Satisfied, Effect::Block, Status::Pass),
    ];
    let d = decide(&reasons, Verdict::Degraded);
    assert_eq!(d.remediation, ["fix tmpfs", "fix docker"]);
    assert_eq!(
        d.evidence,
        "probe.tmpfs: tmpfs observed; probe.docker: docker observed"
    );
}

#[test]
fn a_blocked_row_shows_only_what_blocks() {
    let reasons = [
        reason("slow", Outcome::Violated, Effect::Degrade, Status::Fail),
        reason("lock", Outcome::Violated, Effect::Block, Status::Fail),
    ];
    let d = decide(&reasons, Verdict::Blocked);
    assert_eq!(d.remediation, ["fix lock"]);
    assert_eq!(d.evidence, "probe.lock: lock observed");
}

#[test]
fn nothing_is_advised_for_a_requirement_that_did_not_fail() {
    let reasons = [
        reason("port", Outcome::Unobserved, Effect::Block, Status::Skipped),
        reason("port2", Outcome::Unobserved, Effect::Block, Status::Timeout),
    ];
    let d = decide(&reasons, Verdict::Unknown);
    assert!(!d.remediation.iter().any(|r| r.starts_with("fix")), "{d:?}");
    assert_eq!(
        d.remediation,
        ["Re-run with a longer --timeout: `probe.port2` did not finish in time."]
    );
    assert!(
        d.evidence
            .starts_with("probe.port: skipped (port observed)"),
        "{}",
        d.evidence
    );
}

#[test]
fn an_unknown_row_shows_the_observed_finding_first_and_its_fix() {
    let reasons = [
        reason("lock", Outcome::Unobserved, Effect::Block, Status::Skipped),
        reason("drive", Outcome::Violated, Effect::Degrade, Status::Pass),
        reason("flock", Outcome::Unobserved, Effect::Block, Status::Skipped),
    ];
    let d = decide(&reasons, Verdict::Unknown);
    assert!(
        d.evidence
            .starts_with("probe.drive: drive observed; probe.lock: skipped"),
        "{}",
        d.evidence
    );
    assert!(
        d.evidence.ends_with("1 more not observed"),
        "{}",
        d.evidence
    );
    assert_eq!(d.remediation, ["fix drive"]);
}
