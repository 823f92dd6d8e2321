//! Backend catalogue: profiles (data, in `probes/*.toml`) and the rules that turn
//! observations into verdicts.

pub mod expect;
pub mod inputs;
pub mod load;
pub mod profile;
pub mod requirements;
pub mod rules;
pub mod version;

use crate::error::{InputError, input};
use std::path::PathBuf;

/// The built-in profiles plus the user's `--profile` files (a user profile with a built-in
/// id replaces it). Any unreadable or malformed file is an input error naming it; so is a
/// built-in profile that does not validate (it must never silently vanish from the report).
pub fn load_catalogue(extra: &[PathBuf]) -> Result<Vec<profile::Profile>, InputError> {
    let mut all = load::builtin_checked().map_err(|e| input(format!("built-in {e}")))?;
    for path in extra {
        let p = load::load_file(path).map_err(|e| input(e.to_string()))?;
        match all.iter_mut().find(|q| q.id == p.id) {
            Some(slot) => *slot = p,
            None => all.push(p),
        }
    }
    Ok(all)
}
#[cfg(test)]
mod rules_tests;
