//! TODO(stub): host facts `container`.
