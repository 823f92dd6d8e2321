//! wsl-vecprobe: measured evidence of which vector-database backends will work on this host.
//!
//! Data flows one way: `host` facts and `probe`s produce observations; `catalogue` profiles
//! turn observations into verdicts; `report` renders them. A renderer never probes and a
//! probe never decides a verdict.

pub mod app;
pub mod bounded;
pub mod catalogue;
pub mod cli;
pub mod errno;
pub mod error;
pub mod host;
pub mod observation;
pub mod platform;
pub mod probe;
pub mod report;
pub mod spawn;
