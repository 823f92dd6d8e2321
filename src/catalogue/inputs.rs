//! What the catalogue asks the probes to look at: the union of every profile's default
//! ports, lock files, unix sockets and client packages.

use super::profile::Profile;
use crate::probe::{CatalogueInputs, SocketSpec};

pub fn probe_inputs(profiles: &[Profile]) -> CatalogueInputs {
    let mut inputs = CatalogueInputs::default();
    for p in profiles {
        for port in &p.ports {
            push_user(&mut inputs.ports, port.port, &p.id);
        }
        for lock in &p.lock_files {
            push_user(&mut inputs.lock_files, lock.path.clone(), &p.id);
        }
        for s in &p.sockets {
            inputs.sockets.push(SocketSpec {
                backend: p.id.clone(),
                base: s.base.clone(),
                name: s.name.clone(),
            });
        }
        for pkg in p.package.iter().chain(p.related_packages.iter()) {
            if !inputs.python_packages.contains(pkg) {
                inputs.python_packages.push(pkg.clone());
            }
        }
    }
    inputs.ports.sort_by_key(|(port, _)| *port);
    inputs
}

fn push_user<K: PartialEq>(list: &mut Vec<(K, Vec<String>)>, key: K, backend: &str) {
    match list.iter_mut().find(|(k, _)| *k == key) {
        Some((_, users)) => {
            if !users.iter().any(|u| u == backend) {
                users.push(backend.to_string());
            }
        }
        None => list.push((key, vec![backend.to_string()])),
    }
}
