//! TODO(stub): host facts `ci`.
