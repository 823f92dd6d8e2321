//! TODO(stub): host facts `wsl`.
