//! A verdict's evidence and remediation, assembled from the same decisive reasons: the ones
//! that make the verdict what it is (a blocking violation for `blocked`, an unobserved blocking
//! requirement for `unknown` — after any degrading violation, the finding that holds whatever
//! the unobserved ones turn out to be —, a degrading violation for `degraded`), in profile order. Only a
//! requirement that was observed failing gets its remediation; an unobserved one says why it
//! could not be observed instead (and, when the tool ran out of time, how to give it more).

use super::profile::Effect;
use super::rules::{Outcome, Reason, Verdict};
use crate::observation::Status;

/// What a row shows.
#[derive(Debug, PartialEq)]
pub struct Decision {
    /// The decisive reasons in a few words each, joined by `; `.
    pub evidence: String,
    /// One entry per distinct fix, in the order of the evidence.
    pub remediation: Vec<String>,
}

pub fn decide(reasons: &[Reason], verdict: Verdict) -> Decision {
    decide_with(reasons, verdict, abbreviate)
}

/// The same evidence, every message whole (for Markdown, where nothing is cut).
pub fn full_evidence(reasons: &[Reason], verdict: Verdict) -> String {
    decide_with(reasons, verdict, str::to_string).evidence
}

fn decide_with(reasons: &[Reason], verdict: Verdict, shorten: fn(&str) -> String) -> Decision {
    let mut decisive: Vec<&Reason> = Vec::new();
    if verdict == Verdict::Unknown {
        // What was observed failing comes first: it holds whatever the unobserved ones show.
        decisive.extend(
            reasons
                .iter()
                .filter(|r| r.outcome == Outcome::Violated && r.effect == Effect::Degrade),
        );
    }
    let found = decisive.len();
    decisive.extend(reasons.iter().filter(|r| is_decisive(r, verdict)));
    if decisive.is_empty() {
        return Decision {
            evidence: format!("all {} requirements observed satisfied", reasons.len()),
            remediation: vec![],
        };
    }
    let mut evidence: Vec<String> = Vec::new();
    let mut remediation: Vec<String> = Vec::new();
    for r in &decisive {
        let e = evidence_of(r, shorten);
        if !evidence.contains(&e) {
            evidence.push(e);
        }
        let fix = match r.outcome {
            Outcome::Violated => Some(r.remediation.clone()),
            Outcome::Unobserved if r.status == Status::Timeout => Some(format!(
                "Re-run with a longer --timeout: `{}` did not finish in time.",
                r.probe
            )),
            _ => None,
        };
        if let Some(fix) = fix
            && !remediation.contains(&fix)
        {
            remediation.push(fix);
        }
    }
    // Unobserved reasons are many when a whole probe did not run: name the first, count the rest.
    if verdict == Verdict::Unknown && evidence.len() > found + 1 {
        let more = evidence.len() - found - 1;
        evidence.truncate(found + 1);
        evidence.push(format!("{more} more not observed"));
    }
    Decision {
        evidence: evidence.join("; "),
        remediation,
    }
}

fn is_decisive(r: &Reason, verdict: Verdict) -> bool {
    match verdict {
        Verdict::Blocked => r.outcome == Outcome::Violated && r.effect == Effect::Block,
        Verdict::Unknown => r.outcome == Outcome::Unobserved && r.effect == Effect::Block,
        Verdict::Degraded => r.outcome == Outcome::Violated && r.effect == Effect::Degrade,
        Verdict::Viable => false,
    }
}

/// `lock.flock in /mnt/c/proj: ENOLCK` — one reason in the evidence column.
pub fn short_evidence(r: &Reason) -> String {
    evidence_of(r, abbreviate)
}

fn evidence_of(r: &Reason, abbreviate: fn(&str) -> String) -> String {
    let mut what = match (&r.errno, r.outcome) {
        (Some(e), _) => e.clone(),
        // A made observation whose tested field was missing: say which field.
        (None, Outcome::Unobserved) if r.status == Status::Pass => abbreviate(&r.observed),
        // Not observed: say so, and why (the probe's own words).
        (None, Outcome::Unobserved) => {
            format!("{} ({})", r.status.as_str(), abbreviate(&r.observed))
        }
        (None, _) => abbreviate(&r.observed),
    };
    if let Some(h) = &r.holder
        && r.outcome == Outcome::Violated
        && !what.contains(h.as_str())
    {
        what = format!("{what}, held by {h}");
    }
    if r.target == "host" || r.target.is_empty() {
        format!("{}: {}", r.probe, what)
    } else {
        format!("{} in {}: {}", r.probe, r.target, what)
    }
}

/// At most ~80 characters, cut at a word boundary: the evidence column is a summary; the
/// full message stays in the reason's `observed`.
fn abbreviate(text: &str) -> String {
    const MAX: usize = 80;
    if text.chars().count() <= MAX {
        return text.to_string();
    }
    let cut: String = text.chars().take(MAX).collect();
    let end = cut
        .rfind([' ', ',', ';', ':'])
        .filter(|i| *i > MAX / 2)
        .unwrap_or(cut.len());
    format!("{}…", cut[..end].trim_end_matches([' ', ',', ';', ':']))
}

#[cfg(test)]
mod tests;
