//! Integration tests of `downscale-config`, one binary with a module per theme.

mod errors;
mod expansion;
mod fixture;
mod hostile;
mod paths;
mod precedence;
mod robustness;
mod scoped;
mod show;
