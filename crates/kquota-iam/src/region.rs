//! Region from an MSK broker host name (AWS_MSK_IAM signs for the broker's own host, and its
//! credential scope needs the broker's region).

/// DNS suffixes of AWS partitions, longest first (msk-iam.md §3: franz-go strips the same ones).
const PARTITION_SUFFIXES: &[&str] = &[
    ".amazonaws.com.cn",
    ".amazonaws.com",
    ".sc2s.sgov.gov",
    ".c2s.ic.gov",
    ".api.aws",
];

/// Whether `s` looks like an AWS region name: lower-case words joined by `-`, ending in a number,
/// e.g. `us-east-1`, `us-gov-west-1`, `cn-north-1`, `us-isob-east-1`.
pub fn is_region_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// The region of an MSK broker host, e.g. `b-1.demo.abc123.c2.kafka.us-east-1.amazonaws.com` →
/// `us-east-1`, `b-4.mytest.30734t.c3.kafka.cn-north-1.amazonaws.com.cn` → `cn-north-1`.
///
/// A trailing `:port` and a trailing dot are ignored. Returns `None` for hosts that carry no
/// region (e.g. `localhost` or a custom DNS name); then the configured region applies.
///
/// ```
/// use kquota_iam::region_from_broker_host;
/// assert_eq!(region_from_broker_host("b-1.x.abc.c2.kafka.eu-west-2.amazonaws.com:9098").as_deref(), Some("eu-west-2"));
/// assert_eq!(region_from_broker_host("b-4.t.30734t.c3.kafka.cn-north-1.amazonaws.com.cn").as_deref(), Some("cn-north-1"));
/// assert_eq!(region_from_broker_host("localhost:9092"), None);
/// ```
pub fn region_from_broker_host(host: &str) -> Option<String> {
    let host = strip_port(host).trim_end_matches('.').to_ascii_lowercase();
    let mut rest = host.as_str();
    for suffix in PARTITION_SUFFIXES {
        if let Some(r) = rest.strip_suffix(suffix) {
            rest = r;
            break;
        }
    }
    // The region is normally the last label left; otherwise take the right-most label that is a
    // region name (custom DNS names under an AWS domain).
    rest.rsplit('.')
        .find(|label| is_region_name(label))
        .map(str::to_string)
}

/// `host:port` → `host`; IPv6 literals in brackets lose the brackets and port.
pub(crate) fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, port))
            if !h.contains(':') && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            h
        }
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_from_hosts() {
        let cases = [
            (
                "b-1.demo.abc123.c2.kafka.us-east-1.amazonaws.com",
                Some("us-east-1"),
            ),
            (
                "b-2.demo.abc123.c2.kafka.us-gov-west-1.amazonaws.com:9098",
                Some("us-gov-west-1"),
            ),
            (
                "b-4.mytest.30734t.c3.kafka.cn-north-1.amazonaws.com.cn",
                Some("cn-north-1"),
            ),
            (
                "boot-abc.c1.kafka-serverless.ap-southeast-2.amazonaws.com.",
                Some("ap-southeast-2"),
            ),
            (
                "b-1.x.kafka.us-iso-east-1.c2s.ic.gov",
                Some("us-iso-east-1"),
            ),
            ("kafka.eu-central-2.amazonaws.com", Some("eu-central-2")),
            ("localhost", None),
            ("127.0.0.1:9092", None),
            ("[::1]:9092", None),
            ("broker.example.com", None),
        ];
        for (host, want) in cases {
            assert_eq!(region_from_broker_host(host).as_deref(), want, "{host}");
        }
    }

    #[test]
    fn region_names() {
        assert!(is_region_name("us-east-1"));
        assert!(is_region_name("us-isob-east-1"));
        assert!(!is_region_name("kafka"));
        assert!(!is_region_name("c2"));
        assert!(!is_region_name("us-east-"));
    }
}
