//! TODO(stub): host facts `mounts`.
