//! Everything that needs the AWS SDK (cargo feature `aws-sdk`): the default credential chain and
//! profiles (aws-config: environment, shared profile, web identity, container, IMDS), STS
//! AssumeRole on the regional endpoint with refresh-ahead caching, identity secrets from Secrets
//! Manager, and `whoami` through STS GetCallerIdentity; [`load_sdk_config`] and
//! [`sdk_call_error`] for other SDK clients built next to these (kquota's CloudWatch metrics).
//!
//! The SDK's HTTPS client is rustls on *ring* (no aws-lc).
//!
//! ```no_run
//! # async fn demo() -> Result<(), kquota_iam::IamError> {
//! use kquota_iam::IamConfig;
//! let mut cfg = IamConfig::default();
//! cfg.region = Some("us-east-1".into());
//! cfg.assume_role_arn = Some("arn:aws:iam::111111111111:role/Topic-B-Write-Role".into());
//! cfg.role_session_name = Some("producerapp-1-role-session".into());
//! let iam = kquota_iam::aws::AwsIam::load(&cfg, None).await?;
//! let me = iam.whoami().await?;
//! println!("{}", me.quota_entity_args());
//! let token = iam.signer().oauth_token().await?;
//! # let _ = token; Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_credential_types::provider::{
    error::CredentialsError, future, ProvideCredentials, SharedCredentialsProvider,
};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_types::region::Region;
use aws_types::SdkConfig;

use crate::credentials::BoxFuture;
use crate::{
    is_region_name, CachedCredentials, Credentials, CredentialsProvider, IamConfig, IamError,
    MskSigner, StaticCredentials,
};

/// How long assumed-role sessions are requested for (STS default); with the 15-minute refresh
/// margin each session is used for at most 45 minutes.
pub const ASSUME_ROLE_DURATION: Duration = Duration::from_secs(3600);

/// The identity read from an identity secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdentitySecret {
    /// The Kafka client-id the application must use.
    pub client_id: String,
    /// The role session name the application must use when assuming its role.
    pub role_session_name: String,
}

impl IdentitySecret {
    /// Parses a secret's JSON text `{"client_id": "...", "role_session_name": "..."}`. Errors
    /// name the secret and what is wrong, never its content.
    ///
    /// ```
    /// use kquota_iam::aws::IdentitySecret;
    /// let id = IdentitySecret::parse("app-1", r#"{"client_id":"c1","role_session_name":"s1"}"#)?;
    /// assert_eq!(id.client_id, "c1");
    /// assert!(IdentitySecret::parse("app-1", "not json").is_err());
    /// # Ok::<(), kquota_iam::IamError>(())
    /// ```
    pub fn parse(secret_id: &str, text: &str) -> Result<Self, IamError> {
        let err = |reason: String| IamError::IdentitySecret {
            secret_id: secret_id.to_string(),
            reason,
        };
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            err(format!(
                "is not JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        let obj = v
            .as_object()
            .ok_or_else(|| err("is JSON but not an object".into()))?;
        let field = |name: &str| -> Result<String, IamError> {
            match obj.get(name) {
                Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
                Some(serde_json::Value::String(_)) => {
                    Err(err(format!("field \"{name}\" is empty")))
                }
                Some(_) => Err(err(format!("field \"{name}\" is not a string"))),
                None => Err(err(format!("has no \"{name}\" field"))),
            }
        };
        Ok(Self {
            client_id: field("client_id")?,
            role_session_name: field("role_session_name")?,
        })
    }
}

/// The caller as STS sees it, i.e. the principal the broker will see.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WhoAmI {
    /// The caller ARN, e.g.
    /// `arn:aws:sts::111111111111:assumed-role/Topic-B-Write-Role/producerapp-1-role-session`.
    /// MSK uses it as the user principal.
    pub arn: String,
    /// The account id.
    pub account: String,
    /// The unique id (`AROA…:session` for roles).
    pub user_id: String,
    /// The client-id from config or the identity secret.
    pub client_id: Option<String>,
}

impl WhoAmI {
    /// The user principal for quotas (the caller ARN).
    pub fn principal(&self) -> &str {
        &self.arn
    }

    /// The exact entity flags for `kquota quotas alter` / `describe`: the user principal and,
    /// when known, the client-id.
    ///
    /// ```
    /// # use kquota_iam::aws::WhoAmI;
    /// # fn f(me: &WhoAmI) {
    /// // --entity-type users --entity-name arn:aws:sts::111111111111:assumed-role/R/s --entity-type clients --entity-name c1
    /// println!("{}", me.quota_entity_args());
    /// # }
    /// ```
    pub fn quota_entity_args(&self) -> String {
        crate::quota_entity_args(&self.arn, self.client_id.as_deref())
    }
}

/// Loaded MSK IAM identity: credentials (after any assume-role, cached with a 15-minute refresh
/// margin), region, client-id and role session name.
#[derive(Clone)]
pub struct AwsIam {
    provider: Arc<dyn CredentialsProvider>,
    base: SharedCredentialsProvider,
    base_source: String,
    sdk: SdkConfig,
    region: String,
    client_id: Option<String>,
    role_session_name: Option<String>,
    config: IamConfig,
}

impl fmt::Debug for AwsIam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsIam")
            .field("region", &self.region)
            .field("credentials", &self.base_source)
            .field("assume_role_arn", &self.config.assume_role_arn)
            .field("role_session_name", &self.role_session_name)
            .field("client_id", &self.client_id)
            .finish()
    }
}

/// The HTTPS client kquota gives the AWS SDK: rustls with ring (no aws-lc). Use it for any
/// other SDK client built next to kquota's.
pub fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// The SDK config loader kquota uses for every AWS client: kquota's HTTPS client, the profile,
/// region and endpoint override of `cfg`; everything else (credentials chain, `AWS_REGION`,
/// `AWS_ENDPOINT_URL` and the per-service `AWS_ENDPOINT_URL_<SERVICE>`) from the environment
/// as the SDK does it.
fn config_loader(cfg: &IamConfig) -> aws_config::ConfigLoader {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http_client());
    if let Some(p) = &cfg.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &cfg.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(u) = &cfg.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    loader
}

/// The caller's own SDK configuration (no assume-role) for building other AWS SDK clients
/// next to kquota's, e.g. `aws_sdk_cloudwatch::Client::new(&sdk)`: the same HTTPS client
/// (rustls on ring), profile, region and endpoint resolution as [`AwsIam::load`].
///
/// The region and the credentials are checked now, so a missing region, an unknown profile
/// or no credentials at all is reported here as one line; `what` names the caller in those
/// messages (e.g. "CloudWatch metrics").
pub async fn load_sdk_config(cfg: &IamConfig, what: &str) -> Result<SdkConfig, IamError> {
    if let Some(r) = &cfg.region {
        if !is_region_name(r) {
            return Err(IamError::invalid_argument(
                "--region",
                format!("{r:?} is not an AWS region name such as us-east-1"),
            ));
        }
    }
    let sdk = config_loader(cfg).load().await;
    match sdk.region() {
        None => return Err(IamError::NoRegion { what: what.into() }),
        Some(r) if !is_region_name(r.as_ref()) => {
            return Err(IamError::InvalidRegion {
                region: r.as_ref().to_string(),
            })
        }
        Some(_) => {}
    }
    let source = match &cfg.profile {
        Some(p) => format!("AWS profile {p:?}"),
        None => "the AWS default credential chain".to_string(),
    };
    let provider = sdk
        .credentials_provider()
        .ok_or_else(|| IamError::CredentialSource {
            source_name: source.clone(),
            message: "no credentials provider configured".into(),
            hint: NO_CREDENTIALS_HINT,
        })?;
    provider
        .provide_credentials()
        .await
        .map_err(|e| credentials_error(&source, cfg.profile.as_deref(), &e))?;
    Ok(sdk)
}

/// Turns a failed AWS SDK call of any service into one [`IamError::Aws`] line: the service
/// and operation, the AWS error code and message (or the transport failure) and a fix hint.
/// Never contains credentials: it is built from the error code, the service's message and
/// the transport error only.
pub fn sdk_call_error<E, R>(
    service: &'static str,
    operation: &'static str,
    target: Option<&str>,
    err: SdkError<E, R>,
) -> IamError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    aws_error(service, operation, target, err)
}

impl AwsIam {
    /// Loads credentials as `cfg` says. `base` replaces the default chain / profile as the
    /// caller's own credentials (e.g. keys given as flags). Every step runs now, so a missing
    /// credential, an unknown profile, a denied AssumeRole or a bad identity secret is reported
    /// here, as one line naming the source and the fix.
    pub async fn load(cfg: &IamConfig, base: Option<Credentials>) -> Result<AwsIam, IamError> {
        for (name, r) in [("--region", &cfg.region), ("--sts-region", &cfg.sts_region)] {
            if let Some(r) = r {
                if !is_region_name(r) {
                    return Err(IamError::invalid_argument(
                        name,
                        format!("{r:?} is not an AWS region name such as us-east-1"),
                    ));
                }
            }
        }
        let make_loader = || config_loader(cfg);
        let base_source = match (&base, &cfg.profile) {
            (Some(c), _) => c.source_name().to_string(),
            (None, Some(p)) => format!("AWS profile {p:?}"),
            (None, None) => "the AWS default credential chain".to_string(),
        };
        let base_provider = match base {
            Some(c) => SharedCredentialsProvider::new(c.to_sdk()),
            None => {
                let sdk = make_loader().load().await;
                sdk.credentials_provider()
                    .ok_or_else(|| IamError::CredentialSource {
                        source_name: base_source.clone(),
                        message: "no credentials provider configured".into(),
                        hint: NO_CREDENTIALS_HINT,
                    })?
            }
        };
        let sdk = make_loader()
            .credentials_provider(base_provider.clone())
            .load()
            .await;
        let region = sdk
            .region()
            .map(|r| r.as_ref().to_string())
            .ok_or_else(|| IamError::NoRegion {
                what: "MSK IAM".into(),
            })?;
        if !is_region_name(&region) {
            return Err(IamError::InvalidRegion { region });
        }

        // The caller's own credentials, checked now.
        let base_creds = base_provider
            .provide_credentials()
            .await
            .map_err(|e| credentials_error(&base_source, cfg.profile.as_deref(), &e))?;
        let base_creds = Credentials::from_sdk(&base_creds, base_source.clone())?;
        tracing::debug!(source = %base_source, access_key_id = %base_creds.access_key_id(), "loaded base AWS credentials");

        let mut client_id = cfg.client_id.clone();
        let mut role_session_name = cfg.role_session_name.clone();
        if let Some(secret_id) = &cfg.identity_secret {
            let id = read_identity_secret(&sdk, secret_id).await?;
            tracing::debug!(secret = %secret_id, client_id = %id.client_id, role_session_name = %id.role_session_name, "identity from secret");
            client_id = Some(id.client_id);
            role_session_name = Some(id.role_session_name);
            if cfg.assume_role_arn.is_none() {
                return Err(IamError::invalid_argument(
                    "--identity-secret",
                    "the secret names a role session, so --assume-role-arn (awsRoleArn) is required",
                ));
            }
        }

        let provider: Arc<dyn CredentialsProvider> = match &cfg.assume_role_arn {
            Some(arn) => {
                let sts_region = cfg.sts_region.clone().unwrap_or_else(|| region.clone());
                let conf = aws_sdk_sts::config::Builder::from(&sdk)
                    .region(Region::new(sts_region.clone()))
                    .build();
                let assume = AssumeRole {
                    client: aws_sdk_sts::Client::from_conf(conf),
                    role_arn: arn.clone(),
                    session_name: role_session_name
                        .clone()
                        .unwrap_or_else(|| cfg.effective_role_session_name().to_string()),
                    external_id: cfg.external_id.clone(),
                    sts_region,
                };
                role_session_name = Some(assume.session_name.clone());
                let cached = Arc::new(CachedCredentials::with_margin(
                    Arc::new(assume),
                    cfg.effective_refresh_margin(),
                ));
                cached.credentials().await?;
                cached
            }
            None => {
                let inner = SdkProvider {
                    provider: base_provider.clone(),
                    source_name: base_source.clone(),
                    profile: cfg.profile.clone(),
                };
                Arc::new(CachedCredentials::with_margin(
                    Arc::new(inner),
                    cfg.effective_refresh_margin(),
                ))
            }
        };
        Ok(AwsIam {
            provider,
            base: base_provider,
            base_source,
            sdk,
            region,
            client_id,
            role_session_name,
            config: cfg.clone(),
        })
    }

    /// The caller's own SDK configuration (its credentials before any assume-role, the region,
    /// kquota's HTTPS client, the endpoint override), for building other SDK clients with
    /// the same identity, e.g. `aws_sdk_secretsmanager::Client::new(iam.sdk_config())`.
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk
    }

    /// Credentials the broker will see (after any assume-role), cached with refresh-ahead.
    pub fn credentials_provider(&self) -> Arc<dyn CredentialsProvider> {
        Arc::clone(&self.provider)
    }

    /// The signing region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The client-id (config or identity secret).
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// The role session name in use, when a role is assumed.
    pub fn role_session_name(&self) -> Option<&str> {
        self.role_session_name.as_deref()
    }

    /// A signer for the configured mechanism, region, User-Agent and token host.
    pub fn signer(&self) -> MskSigner {
        let mut s = MskSigner::new(self.credentials_provider())
            .with_region(self.region.clone())
            .with_mechanism(self.config.mechanism);
        if let Some(ua) = &self.config.user_agent {
            s = s.with_user_agent(ua.clone());
        }
        if let Some(h) = &self.config.token_host {
            s = s.with_token_host(h.clone());
        }
        s
    }

    /// Asks STS who the signing credentials belong to: the principal the broker will see.
    pub async fn whoami(&self) -> Result<WhoAmI, IamError> {
        let creds = self.provider.credentials().await?;
        let sts_region = self
            .config
            .sts_region
            .clone()
            .unwrap_or_else(|| self.region.clone());
        let conf = aws_sdk_sts::config::Builder::from(&self.sdk)
            .region(Region::new(sts_region))
            .credentials_provider(SharedCredentialsProvider::new(creds.to_sdk()))
            .build();
        let out = aws_sdk_sts::Client::from_conf(conf)
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| aws_error("STS", "GetCallerIdentity", None, e))?;
        Ok(WhoAmI {
            arn: out.arn().unwrap_or_default().to_string(),
            account: out.account().unwrap_or_default().to_string(),
            user_id: out.user_id().unwrap_or_default().to_string(),
            client_id: self.client_id.clone(),
        })
    }

    /// The caller's own (pre-assume-role) credentials source, for messages.
    pub fn base_source(&self) -> &str {
        &self.base_source
    }

    #[doc(hidden)]
    pub fn base_provider(&self) -> &SharedCredentialsProvider {
        &self.base
    }
}

impl IamConfig {
    /// Shorthand for [`AwsIam::load`] with the caller's credentials from the default chain or
    /// the configured profile.
    pub async fn load(&self) -> Result<AwsIam, IamError> {
        AwsIam::load(self, None).await
    }
}

const NO_CREDENTIALS_HINT: &str = "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, pass --profile, or run where a role is available (web identity, ECS, EC2)";

fn credentials_error(source: &str, profile: Option<&str>, e: &CredentialsError) -> IamError {
    let hint = match e {
        CredentialsError::CredentialsNotLoaded(_) if profile.is_some() => {
            "check that the profile exists and has credentials in ~/.aws/config or ~/.aws/credentials (or AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE)"
        }
        CredentialsError::CredentialsNotLoaded(_) => NO_CREDENTIALS_HINT,
        CredentialsError::ProviderTimedOut(_) => {
            "the provider timed out; check network access to the credential endpoint"
        }
        CredentialsError::InvalidConfiguration(_) if profile.is_some() => {
            "check that the profile exists in ~/.aws/config or ~/.aws/credentials (or AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE)"
        }
        CredentialsError::InvalidConfiguration(_) => "fix the AWS configuration files or environment",
        _ => "check the credentials and their source",
    };
    IamError::CredentialSource {
        source_name: source.to_string(),
        message: error_chain(e),
        hint,
    }
}

/// `Display` of an error and its sources, joined on one line, without repeats.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let text = one_line(&err.to_string());
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    parts.join(": ")
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Maps an SDK error to a one-line [`IamError::Aws`] with a fix hint for the usual codes.
fn aws_error<E, R>(
    service: &'static str,
    operation: &'static str,
    target: Option<&str>,
    err: SdkError<E, R>,
) -> IamError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    let code = err.code().map(str::to_string);
    let message = match (&err, err.message()) {
        (SdkError::ServiceError(_), Some(m)) => one_line(m),
        (SdkError::ServiceError(_), None) => "the service returned an error".to_string(),
        (SdkError::DispatchFailure(_), _) => {
            format!("cannot reach the endpoint ({})", error_chain(&err))
        }
        (SdkError::TimeoutError(_), _) => "timed out".to_string(),
        _ => error_chain(&err),
    };
    let hint = match (code.as_deref(), operation) {
        (Some("AccessDenied" | "AccessDeniedException"), "AssumeRole") => {
            "allow the caller sts:AssumeRole on the role and trust the caller in the role's trust policy"
        }
        (Some("AccessDenied" | "AccessDeniedException"), "GetSecretValue") => {
            "allow the caller secretsmanager:GetSecretValue (and kms:Decrypt) on the secret"
        }
        (Some("AccessDenied" | "AccessDeniedException"), "PutMetricData") => {
            "allow the caller cloudwatch:PutMetricData (metrics are published with the caller's own credentials, not an assumed Kafka role)"
        }
        (Some("AccessDenied" | "AccessDeniedException"), _) => "check the caller's IAM permissions",
        (Some("ExpiredToken" | "ExpiredTokenException" | "TokenRefreshRequired"), _) => {
            "the caller's session token has expired: refresh the credentials (new keys, `aws sso login`, new session)"
        }
        (Some("InvalidClientTokenId" | "UnrecognizedClientException"), _) => {
            "the access key id is not valid here: check the credentials and the region's partition"
        }
        (Some("SignatureDoesNotMatch" | "InvalidSignatureException" | "IncompleteSignature"), _) => {
            "the secret key is wrong or the system clock is skewed: check the credentials and sync the clock"
        }
        (Some("RequestExpired" | "RequestTimeTooSkewed"), _) => {
            "the system clock is skewed: sync it (NTP) and retry"
        }
        (Some("Throttling" | "ThrottlingException" | "TooManyRequestsException" | "RequestLimitExceeded"), _) => {
            "AWS throttled the call after retries: retry later or start fewer clients at once"
        }
        (Some("ResourceNotFoundException"), _) => {
            "no such secret in this region: check --identity-secret and --region"
        }
        (Some("RegionDisabledException"), _) => {
            "STS is not activated in this region: activate it in IAM account settings or pass --sts-region"
        }
        (Some("InvalidParameterValue" | "InvalidParameterCombination" | "MissingParameter" | "InvalidParameterValueException" | "InvalidParameterCombinationException" | "MissingRequiredParameterException"), "PutMetricData") => {
            "check --cw-namespace, --cw-dimension-name and --cw-dimension-value"
        }
        (Some("MalformedPolicyDocument" | "ValidationError" | "InvalidParameterException" | "InvalidRequestException"), _) => {
            "check the role ARN, session name (2-64 chars of [\\w+=,.@-]) and other parameters"
        }
        (_, _) if matches!(err, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)) => {
            "check the network, the region name and any endpoint override"
        }
        _ => "see the AWS error code and message",
    };
    IamError::Aws {
        service,
        operation,
        target: target.map(str::to_string),
        code,
        message,
        hint,
    }
}

/// Reads and parses the identity secret with the caller's credentials.
async fn read_identity_secret(
    sdk: &SdkConfig,
    secret_id: &str,
) -> Result<IdentitySecret, IamError> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| aws_error("Secrets Manager", "GetSecretValue", Some(secret_id), e))?;
    let text = out
        .secret_string()
        .ok_or_else(|| IamError::IdentitySecret {
            secret_id: secret_id.to_string(),
            reason: "holds binary data, not a JSON string".into(),
        })?;
    IdentitySecret::parse(secret_id, text)
}

/// The SDK's credentials provider (default chain or profile) behind our trait.
#[derive(Debug)]
struct SdkProvider {
    provider: SharedCredentialsProvider,
    source_name: String,
    profile: Option<String>,
}

impl CredentialsProvider for SdkProvider {
    fn credentials(&self) -> BoxFuture<'_, Result<Credentials, IamError>> {
        Box::pin(async move {
            let c =
                self.provider.provide_credentials().await.map_err(|e| {
                    credentials_error(&self.source_name, self.profile.as_deref(), &e)
                })?;
            Credentials::from_sdk(&c, self.source_name.clone())
        })
    }
}

/// STS AssumeRole on a regional endpoint; always the same session name, so the principal never
/// changes across refreshes (MSK refuses a principal change on re-authentication).
#[derive(Debug)]
struct AssumeRole {
    client: aws_sdk_sts::Client,
    role_arn: String,
    session_name: String,
    external_id: Option<String>,
    sts_region: String,
}

impl CredentialsProvider for AssumeRole {
    fn credentials(&self) -> BoxFuture<'_, Result<Credentials, IamError>> {
        Box::pin(async move {
            let out = self
                .client
                .assume_role()
                .role_arn(&self.role_arn)
                .role_session_name(&self.session_name)
                .set_external_id(self.external_id.clone())
                .duration_seconds(ASSUME_ROLE_DURATION.as_secs() as i32)
                .send()
                .await
                .map_err(|e| aws_error("STS", "AssumeRole", Some(&self.role_arn), e))?;
            let c = out.credentials().ok_or_else(|| IamError::Aws {
                service: "STS",
                operation: "AssumeRole",
                target: Some(self.role_arn.clone()),
                code: None,
                message: "the response has no credentials".into(),
                hint: "see the AWS error code and message",
            })?;
            let expires = SystemTime::try_from(*c.expiration()).ok();
            let source = format!("STS AssumeRole {} ({})", self.role_arn, self.sts_region);
            let creds = Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_string()),
                expires,
            )
            .map(|x| x.with_source(source))?;
            tracing::debug!(
                role_arn = %self.role_arn,
                session = %self.session_name,
                assumed = out.assumed_role_user().map(|u| u.arn()).unwrap_or_default(),
                expires_at = ?expires.map(httpdate::fmt_http_date),
                "assumed role"
            );
            Ok(creds)
        })
    }
}

/// Adapts our provider to the SDK's credentials trait.
#[derive(Debug)]
#[allow(dead_code)]
struct ToSdk(Arc<dyn CredentialsProvider>);

impl ProvideCredentials for ToSdk {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.0
                .credentials()
                .await
                .map(|c| c.to_sdk())
                .map_err(CredentialsError::provider_error)
        })
    }
}

#[doc(hidden)]
pub fn static_provider(c: Credentials) -> Arc<dyn CredentialsProvider> {
    Arc::new(StaticCredentials::new(c))
}
