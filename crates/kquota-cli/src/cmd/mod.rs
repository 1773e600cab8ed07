//! One module per command; each has `<Name>Args` (clap::Args) and `run`.

pub mod completions;
pub mod configs;
pub mod consume;
pub mod demo;
pub mod produce;
pub mod quotas;
pub mod token;
pub mod topics;
pub mod whoami;
