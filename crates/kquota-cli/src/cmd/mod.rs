//! One module per command; each has `<Name>Args` (clap::Args) and `run`.

pub mod completions;
pub mod configs;
#[cfg(feature = "apps")]
pub mod consume;
#[cfg(feature = "demo")]
pub mod demo;
#[cfg(feature = "apps")]
pub mod produce;
pub mod quotas;
pub mod token;
pub mod topics;
pub mod whoami;
