//! Backend catalogue: profiles (data) and the rules that turn observations into verdicts.
pub mod load;
pub mod profile;
pub mod version;
