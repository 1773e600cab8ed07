//! Transport: TCP (connect timeout, keepalive, no Nagle) and TLS with tokio-rustls (ring).

use std::io::BufReader;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;

use crate::config::{CaSource, TlsConfig};
use crate::Error;

/// A byte stream to a broker (TCP or TLS over TCP).
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// A prepared TLS client (configuration loaded and checked once per [`crate::Cluster`]).
#[derive(Clone)]
pub(crate) struct Tls {
    connector: TlsConnector,
    server_name: Option<String>,
    insecure: bool,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("server_name", &self.server_name)
            .field("insecure", &self.insecure)
            .finish()
    }
}

fn tls_err(what: impl Into<String>, detail: impl std::fmt::Display) -> Error {
    Error::Tls {
        broker: what.into(),
        detail: detail.to_string(),
    }
}

/// A local TLS set-up failure (a CA, certificate or key file that cannot be read or holds no
/// usable PEM): a configuration error, found before anything is sent.
fn tls_file_err(what: impl std::fmt::Display, detail: impl std::fmt::Display) -> Error {
    Error::Config(format!("{what}: {detail}"))
}

impl Tls {
    /// Loads CA / client certificate files and builds the rustls configuration.
    pub(crate) fn new(cfg: &TlsConfig) -> Result<Tls, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_file_err("TLS configuration", e))?;
        let builder = if cfg.accept_invalid_certs {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
        } else {
            let mut roots = RootCertStore::empty();
            match &cfg.ca {
                CaSource::WebPki => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
                CaSource::File(path) => {
                    let pem = std::fs::read(path)
                        .map_err(|e| tls_file_err(format!("CA file {}", path.display()), e))?;
                    add_pem_certs(&mut roots, &pem, &format!("CA file {}", path.display()))?;
                }
                CaSource::Pem(pem) => add_pem_certs(&mut roots, pem, "CA PEM")?,
            }
            builder.with_root_certificates(roots)
        };
        let config = match &cfg.client_cert {
            None => builder.with_no_client_auth(),
            Some((cert_path, key_path)) => {
                let what = format!("client certificate {}", cert_path.display());
                let pem = std::fs::read(cert_path).map_err(|e| tls_file_err(&what, e))?;
                let certs: Vec<CertificateDer<'static>> =
                    rustls_pemfile::certs(&mut BufReader::new(&pem[..]))
                        .collect::<Result<_, _>>()
                        .map_err(|e| tls_file_err(&what, e))?;
                if certs.is_empty() {
                    return Err(tls_file_err(what, "no CERTIFICATE in the file"));
                }
                let kwhat = format!("client key {}", key_path.display());
                let kpem = std::fs::read(key_path).map_err(|e| tls_file_err(&kwhat, e))?;
                let key = rustls_pemfile::private_key(&mut BufReader::new(&kpem[..]))
                    .map_err(|e| tls_file_err(&kwhat, e))?
                    .ok_or_else(|| tls_file_err(&kwhat, "no PRIVATE KEY in the file"))?;
                builder
                    .with_client_auth_cert(certs, key)
                    .map_err(|e| tls_file_err(what, e))?
            }
        };
        Ok(Tls {
            connector: TlsConnector::from(Arc::new(config)),
            server_name: cfg.server_name.clone(),
            insecure: cfg.accept_invalid_certs,
        })
    }
}

fn add_pem_certs(roots: &mut RootCertStore, pem: &[u8], what: &str) -> Result<(), Error> {
    let mut n = 0;
    for cert in rustls_pemfile::certs(&mut BufReader::new(pem)) {
        let cert = cert.map_err(|e| tls_file_err(what, e))?;
        roots.add(cert).map_err(|e| tls_file_err(what, e))?;
        n += 1;
    }
    if n == 0 {
        return Err(tls_file_err(what, "no CERTIFICATE found"));
    }
    Ok(())
}

/// Splits `host:port` (IPv6 as `[::1]:9092`) into host and port.
pub(crate) fn split_host_port(addr: &str) -> Result<(String, u16), Error> {
    let bad = || Error::Config(format!("broker address {addr:?} is not host:port"));
    let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host.to_owned(), port))
}

/// Opens TCP (and TLS) to `addr` within `timeout`.
pub(crate) async fn connect(
    addr: &str,
    tls: Option<&Tls>,
    timeout: Duration,
) -> Result<Box<dyn Io>, Error> {
    let (host, port) = split_host_port(addr)?;
    let work = async {
        let tcp = connect_tcp(addr, &host, port).await?;
        match tls {
            None => Ok(Box::new(tcp) as Box<dyn Io>),
            Some(tls) => {
                if tls.insecure {
                    tracing::warn!(broker = addr, "TLS certificate verification is DISABLED (dangerously_accept_invalid_certs)");
                }
                let name = tls.server_name.clone().unwrap_or_else(|| host.clone());
                let server_name = ServerName::try_from(name.clone())
                    .map_err(|e| tls_err(addr, format!("invalid server name {name:?}: {e}")))?;
                let stream = tls.connector.connect(server_name, tcp).await.map_err(|e| {
                    // A listener without TLS reads the ClientHello as an absurd frame
                    // size and hangs up: the handshake sees end-of-file.
                    let hint = if e.kind() == std::io::ErrorKind::UnexpectedEof {
                        " (the listener closed the connection during the TLS handshake: it \
                             may not speak TLS; a PLAINTEXT or SASL_PLAINTEXT port needs \
                             security.protocol PLAINTEXT or SASL_PLAINTEXT)"
                    } else {
                        ""
                    };
                    tls_err(addr, format!("{e}{hint}"))
                })?;
                Ok(Box::new(stream) as Box<dyn Io>)
            }
        }
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(Error::ConnectTimeout {
            broker: addr.to_owned(),
            after: timeout,
        }),
    }
}

async fn connect_tcp(addr: &str, host: &str, port: u16) -> Result<TcpStream, Error> {
    let conn_err = |source| Error::Connect {
        broker: addr.to_owned(),
        source,
    };
    let mut last = None;
    for sa in tokio::net::lookup_host((host, port))
        .await
        .map_err(conn_err)?
    {
        let socket = if sa.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(conn_err)?;
        // Keepalive finds half-open connections to a broker that vanished.
        socket.set_keepalive(true).map_err(conn_err)?;
        match socket.connect(sa).await {
            Ok(s) => {
                // Requests are written whole; Nagle would only add latency.
                s.set_nodelay(true).map_err(conn_err)?;
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(conn_err(last.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "no address found")
    })))
}

/// Accepts every server certificate: `TlsConfig::dangerously_accept_invalid_certs` only.
#[derive(Debug)]
struct AcceptAnyCert(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_parsing() {
        assert_eq!(
            split_host_port("localhost:9092").unwrap(),
            ("localhost".into(), 9092)
        );
        assert_eq!(split_host_port("[::1]:9093").unwrap(), ("::1".into(), 9093));
        assert!(split_host_port("nohost").is_err());
        assert!(split_host_port(":9092").is_err());
        assert!(split_host_port("h:99999").is_err());
    }

    #[test]
    fn missing_ca_file_is_a_clear_error() {
        let e = Tls::new(&TlsConfig::new().ca_file("/nonexistent/ca.pem")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
        let e = Tls::new(&TlsConfig::new().ca_pem(b"not pem".to_vec())).unwrap_err();
        assert!(e.to_string().contains("no CERTIFICATE"), "{e}");
    }
}
