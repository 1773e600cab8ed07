//! Common connection flags and `--command-config` handling, shared by every command.
//!
//! Flags override the properties file; the properties file overrides defaults. Every command
//! flattens [`ConnectArgs`] and calls [`ConnectArgs::settings`] (pure, testable) and then
//! [`ConnectArgs::connect`] so all commands connect the same way.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use kquota_admin::model::escape_controls;

use crate::app_config::{self, App};
use crate::exit;
use crate::properties::{self, JaasEntry};

/// Connection flags (kafka-configs spellings accepted as aliases).
#[derive(Args, Debug, Clone, Default)]
pub struct ConnectArgs {
    /// Brokers to bootstrap from, comma separated (host:port,...).
    #[arg(
        long = "bootstrap-server",
        visible_alias = "bootstrap-servers",
        short = 'b',
        env = "KQUOTA_BOOTSTRAP_SERVERS",
        value_name = "HOST:PORT,..."
    )]
    pub bootstrap_server: Option<String>,

    /// Java client .properties file (bootstrap.servers, security.protocol, sasl.*, ssl.*, client.id).
    #[arg(long = "command-config", visible_alias = "config", value_name = "FILE")]
    pub command_config: Option<PathBuf>,

    /// security.protocol (overrides the properties file).
    #[arg(long, value_enum, value_name = "PROTOCOL")]
    pub security_protocol: Option<SecurityProtocol>,

    /// sasl.mechanism (overrides the properties file).
    #[arg(long, value_enum, value_name = "MECHANISM")]
    pub sasl_mechanism: Option<SaslMechanismArg>,

    /// SASL user name (PLAIN, SCRAM).
    #[arg(long, env = "KQUOTA_SASL_USERNAME", value_name = "NAME")]
    pub sasl_username: Option<String>,

    /// SASL password (PLAIN, SCRAM); prefer the environment variable.
    #[arg(
        long,
        env = "KQUOTA_SASL_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub sasl_password: Option<String>,

    /// CA certificates (PEM) to trust for TLS.
    #[arg(long, value_name = "PEM_FILE")]
    pub tls_ca_file: Option<PathBuf>,

    /// Client certificate chain (PEM) for mTLS.
    #[arg(long, value_name = "PEM_FILE", requires = "tls_key_file")]
    pub tls_cert_file: Option<PathBuf>,

    /// Client private key (PEM) for mTLS.
    #[arg(long, value_name = "PEM_FILE", requires = "tls_cert_file")]
    pub tls_key_file: Option<PathBuf>,

    /// AWS region for MSK IAM signing, STS and Secrets Manager, and produce/consume's
    /// CloudWatch metrics (default: AWS_REGION or the profile's region).
    #[arg(long, visible_alias = "region", value_name = "REGION")]
    pub aws_region: Option<String>,

    /// AWS profile for MSK IAM.
    #[arg(long, visible_alias = "profile", value_name = "PROFILE")]
    pub aws_profile: Option<String>,

    /// Role to assume for MSK IAM (the quota principal is the assumed-role session ARN).
    #[arg(long, value_name = "ARN")]
    pub aws_role_arn: Option<String>,

    /// Role session name for --aws-role-arn (part of the quota principal).
    #[arg(long, value_name = "NAME", requires = "aws_role_arn")]
    pub aws_role_session_name: Option<String>,

    /// client.id that kquota itself presents to the brokers (not a quota entity; default "kquota").
    #[arg(long = "connect-client-id", value_name = "ID")]
    pub connect_client_id: Option<String>,

    /// Per-request timeout in milliseconds (at least 1).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_ms: Option<u64>,

    /// No brokers needed (`whoami`, which does not connect): an empty list instead of an error.
    #[arg(skip)]
    pub bootstrap_optional: bool,
}

/// Flags of the MSK sample apps that select the identity (produce, consume and whoami).
#[derive(Args, Debug, Clone, Default)]
pub struct AppIdentityArgs {
    /// IAM role to assume (MSK IAM); the quota principal is the assumed-role session ARN.
    #[arg(long, value_name = "ARN")]
    pub assume_role_arn: Option<String>,
    /// Role session name: part of the principal the quota applies to.
    #[arg(long, value_name = "NAME")]
    pub role_session_name: Option<String>,
    /// client.id the app presents: the other half of the quota entity.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Secrets Manager secret (name or ARN) whose JSON holds the app's "client_id" and
    /// "role_session_name"; read with the caller's credentials. Needs --assume-role-arn; with
    /// it, --client-id and --role-session-name (and client.id / awsRoleSessionName in
    /// --command-config) are refused.
    #[arg(long, value_name = "SECRET")]
    pub identity_secret: Option<String>,
}

impl AppIdentityArgs {
    /// The connection settings with the app's identity applied (no network): the client id,
    /// the IAM role and session, and the identity secret.
    ///
    /// With `--identity-secret` the secret is the only source of the client-id and the role
    /// session name: the same value given any other way is a usage error rather than a
    /// precedence rule, so a stale plain value can neither win nor be silently ignored.
    pub fn settings(&self, connect: &ConnectArgs, app: App) -> anyhow::Result<Settings> {
        self.settings_for(connect, Some(app))
    }

    /// [`Self::settings`] for a command that is not a load app (`app` `None`: every app key in
    /// the file is reported as not used).
    pub fn settings_for(
        &self,
        connect: &ConnectArgs,
        app: Option<App>,
    ) -> anyhow::Result<Settings> {
        if let Some(secret) = &self.identity_secret {
            if secret.trim().is_empty() {
                return Err(exit::usage("--identity-secret must name a secret"));
            }
            let plain = [
                (self.client_id.is_some(), "--client-id"),
                (self.role_session_name.is_some(), "--role-session-name"),
                (connect.connect_client_id.is_some(), "--connect-client-id"),
                (
                    connect.aws_role_session_name.is_some(),
                    "--aws-role-session-name",
                ),
            ];
            if let Some((_, flag)) = plain.iter().find(|(given, _)| *given) {
                return Err(exit::usage(format!(
                    "--identity-secret supplies the client-id and the role session name; do not also give {flag}"
                )));
            }
        }
        let mut c = connect.clone();
        if let Some(arn) = &self.assume_role_arn {
            c.aws_role_arn = Some(arn.clone());
            c.aws_role_session_name = self.role_session_name.clone().or(c.aws_role_session_name);
            c.security_protocol = c.security_protocol.or(Some(SecurityProtocol::SaslSsl));
            c.sasl_mechanism = c.sasl_mechanism.or(Some(SaslMechanismArg::OAuthBearer));
        } else if self.role_session_name.is_some() {
            return Err(exit::usage("--role-session-name needs --assume-role-arn"));
        }
        if let Some(id) = &self.client_id {
            c.connect_client_id = Some(id.clone());
        }
        let mut settings = c.settings_for(app)?;
        if let Some(secret) = &self.identity_secret {
            // Anything left now came from the properties file.
            if settings.client_id != "kquota" {
                return Err(exit::usage(
                    "--identity-secret supplies the client-id; remove client.id from --command-config",
                ));
            }
            match &mut settings.sasl {
                Some(SaslSettings::MskIam { iam, .. }) if iam.role_arn.is_some() => {
                    if iam.role_session_name.is_some() {
                        return Err(exit::usage(
                            "--identity-secret supplies the role session name; remove awsRoleSessionName from --command-config",
                        ));
                    }
                    iam.identity_secret = Some(secret.clone());
                }
                _ => {
                    return Err(exit::usage(
                        "--identity-secret needs MSK IAM with a role to assume: give --assume-role-arn (the secret names the role session)",
                    ))
                }
            }
        }
        Ok(settings)
    }

    /// Connects with the common flags, the app's client id and the IAM identity flags: MSK IAM
    /// credentials (assume-role, identity secret) are loaded first, as for every command.
    pub async fn connect(
        &self,
        connect: &ConnectArgs,
        app: App,
    ) -> anyhow::Result<kquota_net::Cluster> {
        let settings = self.settings(connect, app)?;
        for w in &settings.warnings {
            eprintln!("warning: {w}");
        }
        let cfg = crate::backend::resolve_config(&settings).await?;
        kquota_net::Cluster::connect(cfg).await.map_err(|e| {
            let msg = format!("cannot connect to {}: {e}", settings.bootstrap.join(","));
            match e {
                // Local set-up (a CA or key file that cannot be loaded): bad input.
                kquota_net::Error::Config(_) => exit::usage(msg),
                _ => exit::connection(msg),
            }
        })
    }
}

/// `security.protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SecurityProtocol {
    /// No TLS, no SASL.
    Plaintext,
    /// TLS.
    Ssl,
    /// SASL without TLS.
    SaslPlaintext,
    /// SASL over TLS (MSK IAM uses this).
    SaslSsl,
}

impl SecurityProtocol {
    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "PLAINTEXT" => Some(Self::Plaintext),
            "SSL" => Some(Self::Ssl),
            "SASL_PLAINTEXT" => Some(Self::SaslPlaintext),
            "SASL_SSL" => Some(Self::SaslSsl),
            _ => None,
        }
    }
    fn uses_sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }
    fn uses_tls(self) -> bool {
        matches!(self, Self::Ssl | Self::SaslSsl)
    }
}

/// `sasl.mechanism`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SaslMechanismArg {
    /// PLAIN.
    #[value(name = "PLAIN")]
    Plain,
    /// SCRAM-SHA-256.
    #[value(name = "SCRAM-SHA-256")]
    ScramSha256,
    /// SCRAM-SHA-512.
    #[value(name = "SCRAM-SHA-512")]
    ScramSha512,
    /// OAUTHBEARER (with the MSK IAM login module: MSK IAM signed tokens).
    #[value(name = "OAUTHBEARER")]
    OAuthBearer,
    /// AWS_MSK_IAM (the aws-msk-iam-auth mechanism).
    #[value(name = "AWS_MSK_IAM")]
    AwsMskIam,
}

impl SaslMechanismArg {
    fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "PLAIN" => Some(Self::Plain),
            "SCRAM-SHA-256" => Some(Self::ScramSha256),
            "SCRAM-SHA-512" => Some(Self::ScramSha512),
            "OAUTHBEARER" => Some(Self::OAuthBearer),
            "AWS_MSK_IAM" => Some(Self::AwsMskIam),
            _ => None,
        }
    }
}

/// A secret string whose Debug output is redacted.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// MSK IAM options (login module options or flags).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IamSettings {
    /// `awsRoleArn`.
    pub role_arn: Option<String>,
    /// `awsRoleSessionName`.
    pub role_session_name: Option<String>,
    /// `awsProfileName`.
    pub profile: Option<String>,
    /// `awsStsRegion` / region.
    pub region: Option<String>,
    /// Secrets Manager secret holding the client-id and role session name (`--identity-secret`
    /// of produce/consume); replaces both.
    pub identity_secret: Option<String>,
}

/// Resolved SASL settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaslSettings {
    /// PLAIN.
    Plain {
        /// User.
        username: String,
        /// Password.
        password: Secret,
    },
    /// SCRAM.
    Scram {
        /// 256 or 512.
        sha512: bool,
        /// User.
        username: String,
        /// Password.
        password: Secret,
    },
    /// MSK IAM, sent as OAUTHBEARER (signed token) or AWS_MSK_IAM.
    MskIam {
        /// Use the AWS_MSK_IAM mechanism instead of OAUTHBEARER.
        aws_msk_iam_mechanism: bool,
        /// IAM options.
        iam: IamSettings,
    },
    /// OAUTHBEARER with a login module kquota has no token source for.
    OAuthBearerUnsupported {
        /// The login module configured.
        module: String,
    },
}

/// Resolved TLS settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsSettings {
    /// CA PEM file.
    pub ca_file: Option<PathBuf>,
    /// CA PEM text (`ssl.truststore.certificates`).
    pub ca_pem: Option<String>,
    /// Client certificate chain PEM file.
    pub cert_file: Option<PathBuf>,
    /// Client key PEM file.
    pub key_file: Option<PathBuf>,
    /// `ssl.endpoint.identification.algorithm=` (empty): hostname verification off.
    pub no_hostname_verification: bool,
}

/// Everything needed to connect, resolved from flags and the properties file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Bootstrap servers.
    pub bootstrap: Vec<String>,
    /// client.id.
    pub client_id: String,
    /// security.protocol.
    pub protocol: SecurityProtocol,
    /// SASL, when the protocol uses it.
    pub sasl: Option<SaslSettings>,
    /// TLS, when the protocol uses it.
    pub tls: Option<TlsSettings>,
    /// Request timeout.
    pub request_timeout_ms: Option<u64>,
    /// Warnings to print (unknown or unused keys, ignored settings).
    pub warnings: Vec<String>,
    /// The `--command-config` file's name, if one was given.
    pub config_file: Option<String>,
    /// Every entry of that file, in order (the load apps read their own keys from it).
    pub properties: Vec<properties::Property>,
}

/// The JAAS login modules kquota understands in `sasl.jaas.config`.
const LOGIN_MODULES: &[&str] = &[
    "org.apache.kafka.common.security.plain.PlainLoginModule",
    "org.apache.kafka.common.security.scram.ScramLoginModule",
    "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule",
    "software.amazon.msk.auth.iam.IAMLoginModule",
];

/// Properties keys kquota reads.
const USED_KEYS: &[&str] = &[
    "bootstrap.servers",
    "security.protocol",
    "sasl.mechanism",
    "sasl.jaas.config",
    "sasl.client.callback.handler.class",
    "sasl.login.callback.handler.class",
    "ssl.truststore.location",
    "ssl.truststore.type",
    "ssl.truststore.certificates",
    "ssl.keystore.location",
    "ssl.keystore.type",
    "ssl.keystore.certificate.chain",
    "ssl.keystore.key",
    "ssl.key.password",
    "ssl.keystore.password",
    "ssl.truststore.password",
    "ssl.endpoint.identification.algorithm",
    "client.id",
    "request.timeout.ms",
    "default.api.timeout.ms",
];

impl ConnectArgs {
    /// Resolves flags + properties file into [`Settings`] (no network).
    pub fn settings(&self) -> anyhow::Result<Settings> {
        self.settings_for(None)
    }

    /// [`Self::settings`] for a load app: its own keys in the file are not warned about.
    pub fn settings_for(&self, app: Option<App>) -> anyhow::Result<Settings> {
        let mut props: Vec<properties::Property> = Vec::new();
        let mut file_name = String::new();
        let mut encoding_warning = None;
        if let Some(path) = &self.command_config {
            file_name = path.display().to_string();
            let file = properties::read_file(path).map_err(|e| {
                exit::usage(format!("cannot read --command-config {file_name}: {e}"))
            })?;
            props = properties::parse(&file.text)
                .map_err(|e| exit::usage(format!("{file_name}: {e}")))?;
            encoding_warning = file.warning;
        }
        let mut s = resolve(self, &props, &file_name, app)?;
        s.warnings.splice(0..0, encoding_warning);
        s.config_file = self.command_config.is_some().then_some(file_name);
        s.properties = props;
        Ok(s)
    }

    /// Resolves the settings and prints their warnings to stderr.
    pub fn settings_with_warnings(&self) -> anyhow::Result<Settings> {
        let s = self.settings()?;
        for w in &s.warnings {
            eprintln!("warning: {w}");
        }
        Ok(s)
    }
}

fn resolve(
    args: &ConnectArgs,
    props: &[properties::Property],
    file: &str,
    app: Option<App>,
) -> anyhow::Result<Settings> {
    let mut warnings = Vec::new();
    let mut seen = std::collections::BTreeMap::new();
    for p in props {
        if let Some(prev) = seen.insert(p.key.as_str(), p.line) {
            warnings.push(format!(
                "{file}:{}: '{}' repeats line {prev}; the later value wins",
                p.line,
                escape_controls(&p.key)
            ));
        }
        if !USED_KEYS.contains(&p.key.as_str()) {
            if let Some(w) = app_config::key_warning(app, &p.key) {
                warnings.push(format!("{file}:{}: {w}", p.line));
            }
        }
    }
    let get = |k: &str| props.iter().rev().find(|p| p.key == k);
    let bad = |p: &properties::Property, msg: String| {
        exit::usage(format!(
            "{file}:{}: {}: {msg}",
            p.line,
            escape_controls(&p.key)
        ))
    };

    let bootstrap_text = match (&args.bootstrap_server, get("bootstrap.servers")) {
        (Some(b), _) => b.clone(),
        (None, Some(p)) => p.value.clone(),
        (None, None) if args.bootstrap_optional => String::new(),
        (None, None) => {
            return Err(exit::usage(
                "no brokers given: use --bootstrap-server HOST:PORT or bootstrap.servers in --command-config",
            ))
        }
    };
    let bootstrap: Vec<String> = bootstrap_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if bootstrap.is_empty() && !args.bootstrap_optional {
        return Err(exit::usage("the bootstrap server list is empty"));
    }
    for b in &bootstrap {
        let ok = b
            .rsplit_once(':')
            .map(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
            .unwrap_or(false);
        if !ok {
            return Err(exit::usage(format!(
                "bootstrap server '{}' is not HOST:PORT",
                escape_controls(b)
            )));
        }
    }

    let protocol = match (args.security_protocol, get("security.protocol")) {
        (Some(p), _) => p,
        (None, Some(p)) => SecurityProtocol::parse(&p.value).ok_or_else(|| {
            bad(
                p,
                format!(
                    "'{}' is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL",
                    escape_controls(&p.value)
                ),
            )
        })?,
        (None, None) => SecurityProtocol::Plaintext,
    };

    let mechanism = match (args.sasl_mechanism, get("sasl.mechanism")) {
        (Some(m), _) => Some(m),
        (None, Some(p)) => Some(SaslMechanismArg::parse(&p.value).ok_or_else(|| {
            bad(p, format!("'{}' is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER, AWS_MSK_IAM", escape_controls(&p.value)))
        })?),
        (None, None) => None,
    };

    let jaas: Option<Vec<JaasEntry>> = match get("sasl.jaas.config") {
        Some(p) => Some(properties::parse_jaas(&p.value).map_err(|e| bad(p, e.message))?),
        None => None,
    };

    let sasl = if protocol.uses_sasl() {
        let mech = mechanism.unwrap_or(SaslMechanismArg::Plain);
        let module = jaas.as_ref().and_then(|j| j.first());
        if let (Some(m), Some(p)) = (module, get("sasl.jaas.config")) {
            // Read as PLAIN credentials, an unknown module would authenticate as someone
            // else than the file says (or fail with a misleading broker error).
            if !LOGIN_MODULES.contains(&m.module.as_str()) {
                return Err(bad(
                    p,
                    format!(
                        "login module '{}' is not supported; kquota knows {}",
                        escape_controls(&m.module),
                        LOGIN_MODULES.join(", ")
                    ),
                ));
            }
        }
        let user = args.sasl_username.clone().or_else(|| {
            module
                .and_then(|m| m.option("username"))
                .map(str::to_string)
        });
        let pass = args.sasl_password.clone().or_else(|| {
            module
                .and_then(|m| m.option("password"))
                .map(str::to_string)
        });
        let need_user_pass = |what: &str| -> anyhow::Result<(String, Secret)> {
            match (user.clone(), pass.clone()) {
                (Some(u), Some(p)) => Ok((u, Secret(p))),
                _ => Err(exit::usage(format!(
                    "{what} needs a user name and password: --sasl-username/--sasl-password or username=\"..\" password=\"..\" in sasl.jaas.config"
                ))),
            }
        };
        let iam_from = |m: Option<&JaasEntry>| IamSettings {
            role_arn: args
                .aws_role_arn
                .clone()
                .or_else(|| m.and_then(|m| m.option("awsRoleArn")).map(str::to_string)),
            role_session_name: args.aws_role_session_name.clone().or_else(|| {
                m.and_then(|m| m.option("awsRoleSessionName"))
                    .map(str::to_string)
            }),
            profile: args.aws_profile.clone().or_else(|| {
                m.and_then(|m| m.option("awsProfileName"))
                    .map(str::to_string)
            }),
            region: args
                .aws_region
                .clone()
                .or_else(|| m.and_then(|m| m.option("awsStsRegion")).map(str::to_string)),
            identity_secret: None,
        };
        Some(match mech {
            SaslMechanismArg::Plain => {
                let (username, password) = need_user_pass("SASL PLAIN")?;
                SaslSettings::Plain { username, password }
            }
            SaslMechanismArg::ScramSha256 | SaslMechanismArg::ScramSha512 => {
                let (username, password) = need_user_pass("SASL SCRAM")?;
                SaslSettings::Scram {
                    sha512: mech == SaslMechanismArg::ScramSha512,
                    username,
                    password,
                }
            }
            SaslMechanismArg::AwsMskIam => SaslSettings::MskIam {
                aws_msk_iam_mechanism: true,
                iam: iam_from(module),
            },
            SaslMechanismArg::OAuthBearer => {
                let is_iam = module
                    .map(|m| m.module.contains("msk.auth.iam"))
                    .unwrap_or(true)
                    || get("sasl.login.callback.handler.class")
                        .map(|p| p.value.contains("msk.auth.iam"))
                        .unwrap_or(false)
                    || args.aws_role_arn.is_some();
                if is_iam {
                    SaslSettings::MskIam {
                        aws_msk_iam_mechanism: false,
                        iam: iam_from(module),
                    }
                } else {
                    SaslSettings::OAuthBearerUnsupported {
                        module: module.map(|m| m.module.clone()).unwrap_or_default(),
                    }
                }
            }
        })
    } else {
        if mechanism.is_some() || jaas.is_some() {
            let name = match protocol {
                SecurityProtocol::Ssl => "SSL",
                _ => "PLAINTEXT",
            };
            let given = match (args.security_protocol, get("security.protocol")) {
                (Some(_), _) => "(--security-protocol) is",
                (None, Some(_)) => "is",
                (None, None) => "is not set, so it is",
            };
            warnings.push(format!(
                "{file}: security.protocol {given} {name}: the SASL settings (sasl.mechanism, sasl.jaas.config) are ignored; set security.protocol=SASL_SSL or SASL_PLAINTEXT to use them"
            ));
        }
        None
    };

    let tls = if protocol.uses_tls() {
        let mut t = TlsSettings::default();
        let store_type = get("ssl.truststore.type").map(|p| p.value.trim().to_ascii_uppercase());
        if let Some(p) = get("ssl.truststore.location") {
            if store_type.as_deref().unwrap_or("JKS") != "PEM" {
                return Err(bad(p, "only PEM trust stores are supported; set ssl.truststore.type=PEM (convert JKS with keytool -exportcert -rfc)".into()));
            }
            t.ca_file = Some(PathBuf::from(&p.value));
        }
        if let Some(p) = get("ssl.truststore.certificates") {
            t.ca_pem = Some(p.value.clone());
        }
        if let Some(p) = get("ssl.keystore.location") {
            let kt = get("ssl.keystore.type").map(|p| p.value.trim().to_ascii_uppercase());
            if kt.as_deref().unwrap_or("JKS") != "PEM" {
                return Err(bad(p, "only PEM key stores are supported; set ssl.keystore.type=PEM (certificate chain and key in one PEM file)".into()));
            }
            t.cert_file = Some(PathBuf::from(&p.value));
            t.key_file = Some(PathBuf::from(&p.value));
        }
        if get("ssl.keystore.key").is_some() || get("ssl.keystore.certificate.chain").is_some() {
            warnings.push("inline ssl.keystore.key / ssl.keystore.certificate.chain are not supported; use ssl.keystore.location with a PEM file or --tls-cert-file/--tls-key-file".into());
        }
        if get("ssl.key.password")
            .map(|p| !p.value.is_empty())
            .unwrap_or(false)
        {
            warnings.push("ssl.key.password is set: encrypted private keys are not supported; use an unencrypted PEM key".into());
        }
        if let Some(p) = get("ssl.endpoint.identification.algorithm") {
            t.no_hostname_verification = p.value.trim().is_empty();
        }
        if let Some(f) = &args.tls_ca_file {
            t.ca_file = Some(f.clone());
        }
        if let (Some(c), Some(k)) = (&args.tls_cert_file, &args.tls_key_file) {
            t.cert_file = Some(c.clone());
            t.key_file = Some(k.clone());
        }
        Some(t)
    } else {
        if args.tls_ca_file.is_some() || args.tls_cert_file.is_some() {
            warnings.push(format!("security.protocol is {protocol:?}: TLS flags are ignored (use --security-protocol SSL or SASL_SSL)"));
        }
        None
    };

    let client_id = args
        .connect_client_id
        .clone()
        .or_else(|| get("client.id").map(|p| p.value.clone()))
        .unwrap_or_else(|| "kquota".to_string());
    let request_timeout_ms = match (args.request_timeout_ms, get("request.timeout.ms")) {
        (Some(t), _) => Some(t),
        (None, Some(p)) => Some(
            p.value
                .trim()
                .parse()
                .ok()
                .filter(|ms: &u64| *ms > 0)
                .ok_or_else(|| {
                    bad(
                        p,
                        format!(
                            "'{}' is not a number of milliseconds > 0",
                            escape_controls(&p.value)
                        ),
                    )
                })?,
        ),
        (None, None) => None,
    };
    Ok(Settings {
        bootstrap,
        client_id,
        protocol,
        sasl,
        tls,
        request_timeout_ms,
        warnings,
        config_file: None,
        properties: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(args: &ConnectArgs, text: &str) -> anyhow::Result<Settings> {
        resolve(
            args,
            &properties::parse(text).unwrap(),
            "client.properties",
            None,
        )
    }

    #[test]
    fn flags_override_properties() {
        let args = ConnectArgs {
            bootstrap_server: Some("x:1".into()),
            ..Default::default()
        };
        let s = settings(&args, "bootstrap.servers=a:9092,b:9092\nclient.id=app\n").unwrap();
        assert_eq!(s.bootstrap, vec!["x:1"]);
        assert_eq!(s.client_id, "app");
        assert_eq!(s.protocol, SecurityProtocol::Plaintext);
    }

    #[test]
    fn scram_from_jaas() {
        let s = settings(
            &ConnectArgs::default(),
            "bootstrap.servers=a:9092\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"s3cret\";\n",
        )
        .unwrap();
        assert_eq!(
            s.sasl,
            Some(SaslSettings::Scram {
                sha512: true,
                username: "admin".into(),
                password: Secret("s3cret".into())
            })
        );
        assert!(!format!("{s:?}").contains("s3cret"));
    }

    #[test]
    fn msk_iam_properties() {
        let text = "bootstrap.servers=b-1.example:9098\nsecurity.protocol=SASL_SSL\nsasl.mechanism=AWS_MSK_IAM\nsasl.jaas.config=software.amazon.msk.auth.iam.IAMLoginModule required awsRoleArn=\"arn:aws:iam::111111111111:role/Topic-B-Write-Role\" awsRoleSessionName=\"producerapp-1-role-session\";\nsasl.client.callback.handler.class=software.amazon.msk.auth.iam.IAMClientCallbackHandler\n";
        let s = settings(&ConnectArgs::default(), text).unwrap();
        match s.sasl.unwrap() {
            SaslSettings::MskIam {
                aws_msk_iam_mechanism,
                iam,
            } => {
                assert!(aws_msk_iam_mechanism);
                assert_eq!(
                    iam.role_session_name.as_deref(),
                    Some("producerapp-1-role-session")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(s.tls.is_some());
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        let oauth = text.replace("sasl.mechanism=AWS_MSK_IAM", "sasl.mechanism=OAUTHBEARER");
        assert!(matches!(
            settings(&ConnectArgs::default(), &oauth).unwrap().sasl,
            Some(SaslSettings::MskIam {
                aws_msk_iam_mechanism: false,
                ..
            })
        ));
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = settings(
            &ConnectArgs::default(),
            "bootstrap.servers=a:1\n\nsecurity.protocol=SASL_FOO\n",
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "client.properties:3: security.protocol: 'SASL_FOO' is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL");
        let e = settings(
            &ConnectArgs::default(),
            "bootstrap.servers=a:1\nsecurity.protocol=SSL\nssl.truststore.location=/x.jks\n",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("client.properties:3: ssl.truststore.location: only PEM"),
            "{e}"
        );
        let e = settings(&ConnectArgs::default(), "security.protocol=SASL_PLAINTEXT\nsasl.jaas.config=Foo required user=\"x\" password=\"hunter2\"\nbootstrap.servers=a:1\n").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("client.properties:2: sasl.jaas.config") && !msg.contains("hunter2"),
            "{msg}"
        );
        let e = settings(&ConnectArgs::default(), "client.id=x\n").unwrap_err();
        assert!(e.to_string().contains("no brokers"), "{e}");
        let e = settings(
            &ConnectArgs {
                bootstrap_server: Some("localhost".into()),
                ..Default::default()
            },
            "",
        )
        .unwrap_err();
        assert!(e.to_string().contains("HOST:PORT"), "{e}");
    }

    #[test]
    fn unknown_keys_warned_with_line() {
        let s = settings(
            &ConnectArgs::default(),
            "bootstrap.servers=a:1\nlinger.ms=5\nfoo.bar=1\n",
        )
        .unwrap();
        assert_eq!(
            s.warnings,
            vec![
                "client.properties:2: 'linger.ms' is a producer setting, read by kquota produce only; it is ignored here",
                "client.properties:3: unknown or unsupported key 'foo.bar' is ignored"
            ]
        );
    }

    #[test]
    fn pem_tls() {
        let s = settings(
            &ConnectArgs::default(),
            "bootstrap.servers=a:1\nsecurity.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location=/ca.pem\nssl.keystore.type=PEM\nssl.keystore.location=/client.pem\n",
        )
        .unwrap();
        let t = s.tls.unwrap();
        assert_eq!(t.ca_file.as_deref(), Some(std::path::Path::new("/ca.pem")));
        assert_eq!(
            t.cert_file.as_deref(),
            Some(std::path::Path::new("/client.pem"))
        );
    }
}
