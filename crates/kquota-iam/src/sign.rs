//! The signing core: pure functions from credentials and options to an OAUTHBEARER token or an
//! AWS_MSK_IAM payload. No I/O, no AWS SDK, no kquota-net.
//!
//! Both formats are a SigV4 *presigned* `GET` of `https://<host>/?Action=kafka-cluster%3AConnect`
//! for service `kafka-cluster`, signed header `host`, payload hash SHA-256("") (facts from
//! ../shared/reference/msk-iam.md §1.1 and §2). Signing is done by the `aws-sigv4` crate; this
//! module only lays the result out the way the official signers do.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sigv4::http_request::{
    sign, SessionTokenMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use base64::Engine as _;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use secrecy::{ExposeSecret, SecretString};

use crate::{Credentials, IamError};

/// The SigV4 service name MSK verifies against.
pub const SERVICE: &str = "kafka-cluster";
/// The action every MSK IAM token presigns.
pub const ACTION: &str = "kafka-cluster:Connect";
/// The longest validity the official signers use, and the most MSK is known to accept.
pub const MAX_EXPIRY: Duration = Duration::from_secs(900);
/// The `version` field of the AWS_MSK_IAM payload and of the broker's reply.
pub const MSK_IAM_VERSION: &str = "2020_10_22";

/// The default User-Agent: `kquota/<version>`. It is not part of the signature.
pub fn default_user_agent() -> String {
    format!("kquota/{}", env!("CARGO_PKG_VERSION"))
}

/// RFC 3986: everything except `A-Za-z0-9-_.~` is `%XX` with upper-case hex (botocore's `quote`
/// with `safe="-_.~"`).
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn enc(s: &str) -> impl fmt::Display + '_ {
    utf8_percent_encode(s, RFC3986)
}

/// `application/x-www-form-urlencoded` as Python's `urlencode` (`quote_plus`) does it: RFC 3986
/// escaping, except a space becomes `+`. The official Python signer appends the (unsigned)
/// User-Agent this way.
fn form_enc(s: &str) -> String {
    s.split(' ')
        .map(|part| enc(part).to_string())
        .collect::<Vec<_>>()
        .join("+")
}

/// Parses a signing time: RFC 3339 UTC (`2024-01-15T12:34:56Z`), the SigV4 basic form
/// (`20240115T123456Z`) or whole seconds since the epoch (`1705322096`).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use kquota_iam::parse_signing_time;
/// let t = UNIX_EPOCH + Duration::from_secs(1_705_322_096);
/// assert_eq!(parse_signing_time("2024-01-15T12:34:56Z")?, t);
/// assert_eq!(parse_signing_time("20240115T123456Z")?, t);
/// assert_eq!(parse_signing_time("1705322096")?, t);
/// assert!(parse_signing_time("yesterday").is_err());
/// # Ok::<(), kquota_iam::IamError>(())
/// ```
pub fn parse_signing_time(s: &str) -> Result<SystemTime, IamError> {
    let bad = || {
        IamError::invalid_argument(
            "signing time",
            format!("{s:?} is not 2024-01-15T12:34:56Z, 20240115T123456Z or epoch seconds"),
        )
    };
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.len() <= 12 {
        let secs: u64 = s.parse().map_err(|_| bad())?;
        return Ok(UNIX_EPOCH + Duration::from_secs(secs));
    }
    let digits: String = s
        .strip_suffix('Z')
        .ok_or_else(bad)?
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    let (date, time) = digits.split_once('T').ok_or_else(bad)?;
    if date.len() != 8
        || time.len() != 6
        || !(date.to_string() + time)
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let n = |v: &str| v.parse::<i64>().map_err(|_| bad());
    let (y, m, d) = (n(&date[0..4])?, n(&date[4..6])?, n(&date[6..8])?);
    let (hh, mm, ss) = (n(&time[0..2])?, n(&time[2..4])?, n(&time[4..6])?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 || y < 1970
    {
        return Err(bad());
    }
    // Days from civil (proleptic Gregorian), H. Hinnant's algorithm.
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    Ok(UNIX_EPOCH + Duration::from_secs(secs as u64))
}

/// Inputs of a signature other than the credentials.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use kquota_iam::SignOptions;
/// let opts = SignOptions::new("us-east-1")
///     .signing_time(UNIX_EPOCH + Duration::from_secs(1_705_322_096))
///     .user_agent("aws-msk-iam-sasl-signer-python/1.0.2");
/// assert_eq!(opts.region_name(), "us-east-1");
/// ```
#[derive(Debug, Clone)]
pub struct SignOptions {
    region: String,
    signing_time: Option<SystemTime>,
    user_agent: String,
    expires_in: Duration,
    host: Option<String>,
}

impl SignOptions {
    /// Options for `region`: sign now, User-Agent `kquota/<version>`, valid 900 s, host
    /// `kafka.<region>.amazonaws.com` for OAUTHBEARER.
    pub fn new(region: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            signing_time: None,
            user_agent: default_user_agent(),
            expires_in: MAX_EXPIRY,
            host: None,
        }
    }

    /// Signs at a fixed time instead of now (reproducible tokens).
    pub fn signing_time(mut self, t: SystemTime) -> Self {
        self.signing_time = Some(t);
        self
    }

    /// Sets the unsigned `User-Agent` parameter (OAUTHBEARER) / `user-agent` key (AWS_MSK_IAM).
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// Upper bound of `X-Amz-Expires`; whole seconds, at most 900 (larger values are clamped).
    /// The credentials' own expiry lowers it further.
    pub fn expires_in(mut self, d: Duration) -> Self {
        self.expires_in = d;
        self
    }

    /// OAUTHBEARER only: signs for this host instead of `kafka.<region>.amazonaws.com`, for
    /// partitions whose endpoint differs (e.g. `kafka.cn-north-1.amazonaws.com.cn`).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// The region used in the credential scope.
    pub fn region_name(&self) -> &str {
        &self.region
    }

    /// The host signed for OAUTHBEARER.
    pub fn oauth_host(&self) -> String {
        self.host
            .clone()
            .unwrap_or_else(|| format!("kafka.{}.amazonaws.com", self.region))
    }
}

/// A signed OAUTHBEARER token. `Debug` hides the token.
#[derive(Clone)]
pub struct SignedToken {
    token: SecretString,
    signing_time: SystemTime,
    expires_at: SystemTime,
}

impl SignedToken {
    /// The token: base64url (no padding) of the presigned URL. Never log it.
    pub fn token(&self) -> &str {
        self.token.expose_secret()
    }

    /// The signing time, truncated to whole seconds (`X-Amz-Date`).
    pub fn signing_time(&self) -> SystemTime {
        self.signing_time
    }

    /// Absolute expiry: `X-Amz-Date + X-Amz-Expires`.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// Expiry as epoch milliseconds, the figure the official signers report.
    pub fn expires_at_epoch_ms(&self) -> u128 {
        self.expires_at
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis()
    }

    /// The SASL/OAUTHBEARER client-first message for this token:
    /// `n,,\x01auth=Bearer <token>\x01\x01` (Kafka `OAuthBearerClientInitialResponse`).
    pub fn client_first_message(&self) -> Vec<u8> {
        let mut m = b"n,,\x01auth=Bearer ".to_vec();
        m.extend_from_slice(self.token().as_bytes());
        m.extend_from_slice(b"\x01\x01");
        m
    }
}

impl fmt::Debug for SignedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedToken")
            .field("token", &"[redacted]")
            .field("signing_time", &httpdate::fmt_http_date(self.signing_time))
            .field("expires_at", &httpdate::fmt_http_date(self.expires_at))
            .finish()
    }
}

/// A signed AWS_MSK_IAM authentication payload (UTF-8 JSON). `Debug` hides it.
#[derive(Clone)]
pub struct SignedPayload {
    json: SecretString,
    expires_at: SystemTime,
}

impl SignedPayload {
    /// The JSON bytes to send in `SaslAuthenticate`. Never log them (they hold the signature).
    pub fn as_bytes(&self) -> &[u8] {
        self.json.expose_secret().as_bytes()
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.json.expose_secret()
    }

    /// Absolute expiry of the signature.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }
}

impl fmt::Debug for SignedPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedPayload")
            .field("json", &"[redacted]")
            .field("expires_at", &httpdate::fmt_http_date(self.expires_at))
            .finish()
    }
}

/// The query parameters of one presigned `kafka-cluster:Connect` request, values decoded.
struct Presigned {
    algorithm: String,
    credential: String,
    date: String,
    expires: String,
    signed_headers: String,
    security_token: Option<String>,
    signature: String,
    signing_time: SystemTime,
    expires_at: SystemTime,
}

fn validate_region(region: &str) -> Result<(), IamError> {
    let ok = !region.is_empty()
        && region.len() <= 64
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !region.starts_with('-')
        && !region.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(IamError::InvalidRegion {
            region: region.to_string(),
        })
    }
}

fn validate_host(host: &str) -> Result<(), IamError> {
    let ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(IamError::invalid_argument(
            "host",
            format!("{host:?} is not a DNS host name (no port, no scheme)"),
        ))
    }
}

/// Presigns `GET https://<host>/?Action=kafka-cluster%3AConnect` with aws-sigv4.
fn presign(creds: &Credentials, opts: &SignOptions, host: &str) -> Result<Presigned, IamError> {
    validate_region(&opts.region)?;
    validate_host(host)?;
    // X-Amz-Date has whole seconds; truncate so the reported expiry matches it exactly.
    let requested = opts.signing_time.unwrap_or_else(SystemTime::now);
    let secs = requested
        .duration_since(UNIX_EPOCH)
        .map_err(|_| IamError::invalid_argument("signing time", "before 1970"))?
        .as_secs();
    let signing_time = UNIX_EPOCH + Duration::from_secs(secs);

    // Whole seconds, at most 900, never beyond the credentials' own expiry.
    let mut expires = opts.expires_in.min(MAX_EXPIRY).as_secs();
    if let Some(exp) = creds.expires_at() {
        let left = exp
            .duration_since(signing_time)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if left < 1 {
            return Err(IamError::ExpiredCredentials {
                source_name: creds.source_name().to_string(),
                expired_at: exp,
                signing_time,
            });
        }
        expires = expires.min(left);
    }
    if expires == 0 {
        return Err(IamError::invalid_argument(
            "expiry",
            "X-Amz-Expires must be at least 1 second",
        ));
    }

    let identity = creds.to_sdk().into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(expires));
    settings.session_token_mode = SessionTokenMode::Include;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&opts.region)
        .name(SERVICE)
        .time(signing_time)
        .settings(settings)
        .build()
        .map_err(|e| IamError::Signing(e.to_string()))?
        .into();
    let url = format!("https://{host}/?Action={}", enc(ACTION));
    let request = SignableRequest::new(
        "GET",
        url,
        std::iter::once(("host", host)),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| IamError::Signing(e.to_string()))?;
    // aws-sigv4 traces the canonical request, whose query holds the session token of a
    // presigned URL; mute its events for this (synchronous) call so no subscriber sees it.
    let signed =
        tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
            sign(request, &params)
        });
    let (instructions, _signature) = signed
        .map_err(|e| IamError::Signing(e.to_string()))?
        .into_parts();
    let (_headers, query) = instructions.into_parts();
    let get = |name: &str| -> Option<String> {
        query
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v): &(&str, Cow<'_, str>)| v.to_string())
    };
    let need = |name: &str| {
        get(name).ok_or_else(|| IamError::Signing(format!("aws-sigv4 did not return {name}")))
    };
    Ok(Presigned {
        algorithm: need("X-Amz-Algorithm")?,
        credential: need("X-Amz-Credential")?,
        date: need("X-Amz-Date")?,
        expires: need("X-Amz-Expires")?,
        signed_headers: need("X-Amz-SignedHeaders")?,
        security_token: get("X-Amz-Security-Token"),
        signature: need("X-Amz-Signature")?,
        signing_time,
        expires_at: signing_time + Duration::from_secs(expires),
    })
}

/// The presigned URL behind an OAUTHBEARER token, in the official Python signer's layout:
/// `Action, X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders,
/// [X-Amz-Security-Token], X-Amz-Signature, User-Agent` (msk-iam.md §1.1 step 5).
fn oauth_url(creds: &Credentials, opts: &SignOptions) -> Result<(String, Presigned), IamError> {
    let host = opts.oauth_host();
    let p = presign(creds, opts, &host)?;
    let mut url = format!(
        "https://{host}/?Action={}&X-Amz-Algorithm={}&X-Amz-Credential={}&X-Amz-Date={}&X-Amz-Expires={}&X-Amz-SignedHeaders={}",
        enc(ACTION),
        enc(&p.algorithm),
        enc(&p.credential),
        enc(&p.date),
        enc(&p.expires),
        enc(&p.signed_headers),
    );
    if let Some(t) = &p.security_token {
        url.push_str(&format!("&X-Amz-Security-Token={}", enc(t)));
    }
    url.push_str(&format!(
        "&X-Amz-Signature={}&User-Agent={}",
        enc(&p.signature),
        form_enc(&opts.user_agent)
    ));
    Ok((url, p))
}

/// Signs an MSK IAM OAUTHBEARER token, byte for byte what the official signer libraries produce
/// for the same inputs and User-Agent.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use kquota_iam::{oauth_token, Credentials, SignOptions};
/// let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None)?;
/// let t0 = UNIX_EPOCH + Duration::from_secs(1_705_322_096); // 2024-01-15T12:34:56Z
/// let token = oauth_token(&creds, &SignOptions::new("us-east-1").signing_time(t0))?;
/// assert_eq!(token.expires_at(), t0 + Duration::from_secs(900));
/// assert!(token.token().starts_with("aHR0cHM6Ly9rYWZrYS51cy1lYXN0LTEuYW1hem9uYXdzLmNvbS8_"));
/// # Ok::<(), kquota_iam::IamError>(())
/// ```
pub fn oauth_token(creds: &Credentials, opts: &SignOptions) -> Result<SignedToken, IamError> {
    let (url, p) = oauth_url(creds, opts)?;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url.as_bytes());
    tracing::debug!(
        region = %opts.region,
        host = %opts.oauth_host(),
        access_key_id = %creds.access_key_id(),
        expires_s = %p.expires,
        "signed MSK IAM OAUTHBEARER token"
    );
    Ok(SignedToken {
        token: SecretString::from(token),
        signing_time: p.signing_time,
        expires_at: p.expires_at,
    })
}

/// Signs an AWS_MSK_IAM authentication payload for `broker_host` (the broker's own host name,
/// without port), the JSON object the Java `IAMLoginModule` sends: the presigned query parameters
/// with lower-cased keys and decoded values, plus `version`, `host` and `user-agent`.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use kquota_iam::{msk_iam_payload, Credentials, SignOptions};
/// let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None)?;
/// let opts = SignOptions::new("us-east-1").signing_time(UNIX_EPOCH + Duration::from_secs(1_705_322_096));
/// let payload = msk_iam_payload(&creds, "b-1.demo.abc123.c2.kafka.us-east-1.amazonaws.com", &opts)?;
/// let json: serde_json::Value = serde_json::from_slice(payload.as_bytes()).unwrap();
/// assert_eq!(json["version"], "2020_10_22");
/// assert_eq!(json["action"], "kafka-cluster:Connect");
/// # Ok::<(), kquota_iam::IamError>(())
/// ```
pub fn msk_iam_payload(
    creds: &Credentials,
    broker_host: &str,
    opts: &SignOptions,
) -> Result<SignedPayload, IamError> {
    let p = presign(creds, opts, broker_host)?;
    let mut m = serde_json::Map::new();
    let mut put = |k: &str, v: &str| {
        m.insert(k.to_string(), serde_json::Value::String(v.to_string()));
    };
    put("version", MSK_IAM_VERSION);
    put("host", broker_host);
    put("user-agent", &opts.user_agent);
    put("action", ACTION);
    put("x-amz-algorithm", &p.algorithm);
    put("x-amz-credential", &p.credential);
    put("x-amz-date", &p.date);
    put("x-amz-signedheaders", &p.signed_headers);
    put("x-amz-expires", &p.expires);
    if let Some(t) = &p.security_token {
        put("x-amz-security-token", t);
    }
    put("x-amz-signature", &p.signature);
    let json = serde_json::Value::Object(m).to_string();
    tracing::debug!(
        region = %opts.region,
        broker_host,
        access_key_id = %creds.access_key_id(),
        expires_s = %p.expires,
        "signed AWS_MSK_IAM payload"
    );
    Ok(SignedPayload {
        json: SecretString::from(json),
        expires_at: p.expires_at,
    })
}

/// The broker's successful AWS_MSK_IAM reply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MskIamReply {
    /// The broker's request id, if it sent one.
    pub request_id: Option<String>,
}

/// Checks the broker's AWS_MSK_IAM reply: a non-empty JSON object whose `version` is
/// `2020_10_22` (the Java client rejects anything else).
///
/// ```
/// use kquota_iam::check_msk_iam_reply;
/// let r = check_msk_iam_reply(br#"{"version":"2020_10_22","request-id":"abc"}"#)?;
/// assert_eq!(r.request_id.as_deref(), Some("abc"));
/// assert!(check_msk_iam_reply(b"").is_err());
/// # Ok::<(), kquota_iam::IamError>(())
/// ```
pub fn check_msk_iam_reply(reply: &[u8]) -> Result<MskIamReply, IamError> {
    if reply.is_empty() {
        return Err(IamError::ServerReply(
            "empty reply (a successful authentication returns a JSON object)".into(),
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(reply).map_err(|e| {
        IamError::ServerReply(format!("{} bytes that are not JSON ({e})", reply.len()))
    })?;
    let obj = v
        .as_object()
        .ok_or_else(|| IamError::ServerReply("JSON that is not an object".into()))?;
    match obj.get("version").and_then(|v| v.as_str()) {
        Some(MSK_IAM_VERSION) => {}
        Some(other) => {
            return Err(IamError::ServerReply(format!(
                "version {other:?}, expected {MSK_IAM_VERSION:?}"
            )))
        }
        None => {
            return Err(IamError::ServerReply(format!(
                "no \"version\" field, expected {MSK_IAM_VERSION:?}"
            )))
        }
    }
    Ok(MskIamReply {
        request_id: obj
            .get("request-id")
            .and_then(|v| v.as_str())
            .map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(exp: Option<SystemTime>) -> Credentials {
        Credentials::new("AKIDEXAMPLE", "secret/+key", None, exp).unwrap()
    }

    #[test]
    fn expiry_is_clamped_to_credentials_and_whole_seconds() {
        let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let c = creds(Some(t0 + Duration::from_millis(600_500)));
        let opts = SignOptions::new("us-east-1").signing_time(t0 + Duration::from_millis(250));
        let tok = oauth_token(&c, &opts).unwrap();
        assert_eq!(tok.signing_time(), t0);
        assert_eq!(tok.expires_at(), t0 + Duration::from_secs(600));
        let url = String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(tok.token())
                .unwrap(),
        )
        .unwrap();
        assert!(url.contains("&X-Amz-Expires=600&"), "{url}");
    }

    #[test]
    fn expires_in_above_900_is_clamped() {
        let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let opts = SignOptions::new("eu-west-1")
            .signing_time(t0)
            .expires_in(Duration::from_secs(3600));
        let tok = oauth_token(&creds(None), &opts).unwrap();
        assert_eq!(tok.expires_at(), t0 + MAX_EXPIRY);
    }

    #[test]
    fn expired_credentials_are_an_error() {
        let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let c = creds(Some(t0 - Duration::from_secs(1)));
        let err = oauth_token(&c, &SignOptions::new("us-east-1").signing_time(t0)).unwrap_err();
        assert!(matches!(err, IamError::ExpiredCredentials { .. }), "{err}");
        assert!(err.to_string().contains("expired"), "{err}");
    }

    #[test]
    fn bad_region_and_host_are_errors() {
        let c = creds(None);
        assert!(matches!(
            oauth_token(&c, &SignOptions::new("US EAST")),
            Err(IamError::InvalidRegion { .. })
        ));
        assert!(oauth_token(&c, &SignOptions::new("us-east-1").host("a/b")).is_err());
        assert!(msk_iam_payload(&c, "host:9098", &SignOptions::new("us-east-1")).is_err());
    }

    #[test]
    fn reply_versions() {
        assert!(check_msk_iam_reply(br#"{"version":"2020_10_22"}"#).is_ok());
        assert!(check_msk_iam_reply(br#"{"version":"2019"}"#).is_err());
        assert!(check_msk_iam_reply(br#"[1]"#).is_err());
        assert!(check_msk_iam_reply(b"\xff\x00").is_err());
    }
}
