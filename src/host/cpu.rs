//! TODO(stub): host facts `cpu`.
