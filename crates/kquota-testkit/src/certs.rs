//! TLS material generated for each cluster: a CA, a broker certificate for `127.0.0.1` and
//! `localhost`, and a client certificate (`CN=kquota-client`) for `ssl.client.auth=required`.
//!
//! Everything is PEM so Rust clients (rustls) and the broker (`ssl.keystore.type=PEM`) read the
//! same files. Keys are ECDSA P-256, PKCS#8, unencrypted (test material only).

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

use crate::error::{Result, TestkitError};

/// The subject of the client certificate; with `ssl_client_auth(true)` the SSL listener's
/// principal for it is `User:CN=kquota-client`.
pub const CLIENT_CERT_CN: &str = "kquota-client";

/// Paths of the generated PEM files.
#[derive(Debug, Clone)]
pub(crate) struct TlsFiles {
    pub ca_pem: PathBuf,
    pub server_keystore_pem: PathBuf,
    pub client_cert_pem: PathBuf,
    pub client_key_pem: PathBuf,
    pub client_keystore_pem: PathBuf,
}

fn tls_err(what: &str, e: rcgen::Error) -> TestkitError {
    TestkitError::io(
        format!("generating {what}"),
        std::io::Error::other(e.to_string()),
    )
}

pub(crate) fn generate(dir: &Path) -> Result<TlsFiles> {
    fs::create_dir_all(dir)
        .map_err(|e| TestkitError::io(format!("creating {}", dir.display()), e))?;
    let ca_key = KeyPair::generate().map_err(|e| tls_err("CA key", e))?;
    let mut ca_params =
        CertificateParams::new(Vec::<String>::new()).map_err(|e| tls_err("CA", e))?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "kquota-testkit CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = ca_params
        .self_signed(&ca_key)
        .map_err(|e| tls_err("CA certificate", e))?;

    let leaf = |cn: &str,
                sans: Vec<String>,
                eku: Vec<ExtendedKeyUsagePurpose>|
     -> Result<(String, String)> {
        let key = KeyPair::generate().map_err(|e| tls_err("key", e))?;
        let mut p = CertificateParams::new(sans).map_err(|e| tls_err(cn, e))?;
        p.distinguished_name.push(DnType::CommonName, cn);
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = eku;
        let cert = p
            .signed_by(&key, &ca, &ca_key)
            .map_err(|e| tls_err(cn, e))?;
        Ok((cert.pem(), key.serialize_pem()))
    };
    let (server_cert, server_key) = leaf(
        "localhost",
        vec!["localhost".into(), "127.0.0.1".into()],
        vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ],
    )?;
    let (client_cert, client_key) = leaf(
        CLIENT_CERT_CN,
        vec![],
        vec![ExtendedKeyUsagePurpose::ClientAuth],
    )?;
    let files = TlsFiles {
        ca_pem: dir.join("ca.pem"),
        server_keystore_pem: dir.join("broker-keystore.pem"),
        client_cert_pem: dir.join("client.pem"),
        client_key_pem: dir.join("client.key"),
        client_keystore_pem: dir.join("client-keystore.pem"),
    };
    let write = |p: &Path, text: String| {
        fs::write(p, text).map_err(|e| TestkitError::io(format!("writing {}", p.display()), e))
    };
    write(&files.ca_pem, ca.pem())?;
    // Kafka's PEM keystore: the private key followed by the certificate chain.
    write(
        &files.server_keystore_pem,
        format!("{server_key}{server_cert}{}", ca.pem()),
    )?;
    write(&files.client_cert_pem, format!("{client_cert}{}", ca.pem()))?;
    write(&files.client_key_pem, client_key.clone())?;
    write(
        &files.client_keystore_pem,
        format!("{client_key}{client_cert}{}", ca.pem()),
    )?;
    Ok(files)
}
