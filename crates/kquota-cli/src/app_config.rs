//! Producer and consumer keys of a Java `.properties` file (`--command-config`) for
//! `kquota produce` / `kquota consume`.
//!
//! A `producer.properties` or `consumer.properties` written for the Java apps carries more
//! than connection settings. The keys kquota has an equivalent for are read by the app they
//! belong to (a command-line flag wins over the file, the file over kquota's default); the
//! other app's keys, and keys kquota has no equivalent for, are warned about and ignored.
//! A value that cannot be parsed, or that the producer/consumer checks refuse
//! ([`kquota_client::ProducerConfig::check`], [`kquota_client::ConsumerConfig::check`]), is a
//! usage error naming `FILE:LINE: key`.

#[cfg(feature = "apps")]
use std::time::Duration;

#[cfg(feature = "apps")]
use kquota_client::InvalidSetting;

#[cfg(feature = "apps")]
use crate::connect::Settings;
#[cfg(feature = "apps")]
use crate::exit;
#[cfg(feature = "apps")]
use crate::properties::Property;

/// Which load app reads the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App {
    /// `kquota produce`.
    Producer,
    /// `kquota consume`.
    Consumer,
}

impl App {
    /// The app-specific keys it reads (`client.id` and `request.timeout.ms` are connection
    /// keys every command reads).
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            App::Producer => PRODUCER_KEYS,
            App::Consumer => CONSUMER_KEYS,
        }
    }

    /// The command name.
    pub fn command(self) -> &'static str {
        match self {
            App::Producer => "kquota produce",
            App::Consumer => "kquota consume",
        }
    }
}

/// Producer keys `kquota produce` reads.
pub const PRODUCER_KEYS: &[&str] = &[
    "acks",
    "enable.idempotence",
    "compression.type",
    "linger.ms",
    "batch.size",
    "buffer.memory",
    "max.block.ms",
    "delivery.timeout.ms",
    "max.request.size",
];

/// Consumer keys `kquota consume` reads.
pub const CONSUMER_KEYS: &[&str] = &[
    "group.id",
    "auto.offset.reset",
    "fetch.max.bytes",
    "max.partition.fetch.bytes",
    "fetch.min.bytes",
    "fetch.max.wait.ms",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "max.poll.interval.ms",
    "enable.auto.commit",
];

/// Common Java producer keys kquota has no equivalent for, with why.
pub const UNSUPPORTED_PRODUCER_KEYS: &[(&str, &str)] = &[
    (
        "retries",
        "kquota retries a failed batch until delivery.timeout.ms instead of counting",
    ),
    (
        "max.in.flight.requests.per.connection",
        "kquota keeps one request per partition in flight",
    ),
];

/// The warning for a key no command of this invocation uses, or `None` when `app` reads it.
pub fn key_warning(app: Option<App>, key: &str) -> Option<String> {
    if app.is_some_and(|a| a.keys().contains(&key)) {
        return None;
    }
    if app == Some(App::Producer) {
        if let Some((_, why)) = UNSUPPORTED_PRODUCER_KEYS.iter().find(|(k, _)| *k == key) {
            return Some(format!("'{key}' is not supported ({why}); it is ignored"));
        }
    }
    for other in [App::Producer, App::Consumer] {
        if Some(other) != app && other.keys().contains(&key) {
            let what = match other {
                App::Producer => "producer",
                App::Consumer => "consumer",
            };
            return Some(format!(
                "'{key}' is a {what} setting, read by {} only; it is ignored here",
                other.command()
            ));
        }
    }
    Some(format!(
        "unknown or unsupported key '{}' is ignored",
        kquota_admin::model::escape_controls(key)
    ))
}

#[cfg(feature = "apps")]
/// The app keys of the `--command-config` file, read with the file's name and line in every
/// error. Records which keys were taken from the file, so that a check failing later can
/// point at the line.
#[derive(Debug)]
pub struct FileValues<'a> {
    file: &'a str,
    props: &'a [Property],
    used: Vec<(&'static str, usize)>,
}

#[cfg(feature = "apps")]
impl<'a> FileValues<'a> {
    /// The properties of resolved settings.
    pub fn new(settings: &'a Settings) -> Self {
        FileValues {
            file: settings.config_file.as_deref().unwrap_or(""),
            props: &settings.properties,
            used: Vec::new(),
        }
    }

    /// `FILE:LINE: key: message` as a usage error.
    /// Control characters (from the file's values) are shown escaped.
    fn error(&self, key: &str, line: usize, message: impl std::fmt::Display) -> anyhow::Error {
        let text = format!("{}:{line}: {key}: {message}", self.file);
        exit::usage(kquota_admin::model::escape_controls(&text))
    }

    /// The value of `key` (the last one, as in Java) when the flag was not given; parsed by
    /// `parse`, whose error message is put after `FILE:LINE: key: `.
    pub fn get<T>(
        &mut self,
        flag: Option<T>,
        key: &'static str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> anyhow::Result<Option<T>> {
        if flag.is_some() {
            return Ok(flag);
        }
        let Some(p) = self.props.iter().rev().find(|p| p.key == key) else {
            return Ok(None);
        };
        let v = parse(p.value.trim()).map_err(|m| self.error(key, p.line, m))?;
        self.used.push((key, p.line));
        Ok(Some(v))
    }

    /// A failed check: `FILE:LINE: key: message` for the first of its keys taken from the
    /// file, else `None` (the flags or defaults are at fault).
    pub fn blame(&self, e: &InvalidSetting) -> Option<anyhow::Error> {
        e.keys.iter().find_map(|k| {
            self.used
                .iter()
                .find(|(used, _)| used == k)
                .map(|(key, line)| self.error(key, *line, &e.message))
        })
    }
}

#[cfg(feature = "apps")]
/// A whole number of milliseconds.
pub fn millis(v: &str) -> Result<Duration, String> {
    v.parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| format!("'{v}' is not a whole number of milliseconds"))
}

#[cfg(feature = "apps")]
/// A whole number (bytes, counts) of type `T`.
pub fn whole<T: std::str::FromStr>(v: &str) -> Result<T, String> {
    v.parse::<T>()
        .map_err(|_| format!("'{v}' is not a whole number in range"))
}

#[cfg(feature = "apps")]
/// `true` or `false` (any case), as Java's config parser takes them.
pub fn boolean(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("'{v}' is not true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_name_the_app_that_reads_a_key() {
        assert_eq!(key_warning(Some(App::Producer), "linger.ms"), None);
        assert_eq!(
            key_warning(Some(App::Producer), "group.id").unwrap(),
            "'group.id' is a consumer setting, read by kquota consume only; it is ignored here"
        );
        assert_eq!(
            key_warning(Some(App::Consumer), "acks").unwrap(),
            "'acks' is a producer setting, read by kquota produce only; it is ignored here"
        );
        assert!(key_warning(Some(App::Producer), "retries")
            .unwrap()
            .starts_with("'retries' is not supported"));
        assert_eq!(
            key_warning(None, "foo.bar").unwrap(),
            "unknown or unsupported key 'foo.bar' is ignored"
        );
    }

    #[test]
    fn value_parsers() {
        assert_eq!(millis("250"), Ok(Duration::from_millis(250)));
        assert!(millis("-1").is_err());
        assert_eq!(whole::<i32>("1024"), Ok(1024));
        assert!(whole::<i32>("3000000000").is_err());
        assert_eq!(boolean("TRUE"), Ok(true));
        assert!(boolean("yes").is_err());
    }
}
