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

/// clap value parser for `--metrics-interval`: a whole number of seconds, at least 1 (clap's
/// own message for `0.5` was "invalid digit found in string").
#[cfg(feature = "apps")]
pub(crate) fn whole_seconds(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("expected a whole number of seconds, at least 1 (e.g. 5)".to_string()),
    }
}

#[cfg(all(test, feature = "apps"))]
mod tests {
    use super::whole_seconds;

    #[test]
    fn metrics_interval_is_whole_seconds_at_least_one() {
        assert_eq!(whole_seconds("5"), Ok(5));
        for bad in ["0", "0.5", "-1", "x", ""] {
            assert!(
                whole_seconds(bad)
                    .unwrap_err()
                    .contains("whole number of seconds"),
                "{bad}"
            );
        }
    }
}
