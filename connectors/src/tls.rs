//! TLS pieces shared by the etcd and Redis backends: reading the PEM files named in the
//! config (each error names the field and the file), a certificate verifier that accepts any
//! server certificate (Ligato's `insecure-skip-tls-verify` / `tls.skip-verify`), and a
//! one-off handshake used to explain a failed TLS connection (wrong CA, missing client
//! certificate) instead of letting the client library retry it until a timeout.
//!
//! Deliberately not here: building each client library's TLS settings (see `etcd/tls.rs` and
//! `redis/mod.rs`); everything uses rustls with the ring provider, never openssl.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::error::{ConnectorError, Result, Store};

fn tls_file_err(store: Store, field: &'static str, path: &Path, reason: String) -> ConnectorError {
    ConnectorError::TlsFile {
        store,
        field,
        path: path.to_path_buf(),
        reason,
    }
}

fn read_file(store: Store, field: &'static str, path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| tls_file_err(store, field, path, format!("cannot read it: {e}")))
}

/// PEM certificates read from a file (a CA bundle or a client certificate chain).
#[derive(Clone)]
pub(crate) struct Certs {
    /// The file's bytes, as the client libraries take them.
    pub(crate) pem: Vec<u8>,
    pub(crate) der: Vec<CertificateDer<'static>>,
}

/// Reads a file of one or more PEM certificates.
pub(crate) fn read_certs(store: Store, field: &'static str, path: &Path) -> Result<Certs> {
    let pem = read_file(store, field, path)?;
    let der = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| tls_file_err(store, field, path, format!("bad PEM: {e}")))?;
    if der.is_empty() {
        return Err(tls_file_err(
            store,
            field,
            path,
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".to_owned(),
        ));
    }
    Ok(Certs { pem, der })
}

/// A client certificate chain and its private key, for mutual TLS.
pub(crate) struct Identity {
    pub(crate) certs: Certs,
    /// The key file's bytes.
    pub(crate) key_pem: Vec<u8>,
    pub(crate) key: PrivateKeyDer<'static>,
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Identity {
            certs: self.certs.clone(),
            key_pem: self.key_pem.clone(),
            key: self.key.clone_key(),
        }
    }
}

/// Reads a PEM private key (PKCS#8, PKCS#1 or SEC1).
fn read_key(
    store: Store,
    field: &'static str,
    path: &Path,
) -> Result<(Vec<u8>, PrivateKeyDer<'static>)> {
    let pem = read_file(store, field, path)?;
    let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        tls_file_err(
            store,
            field,
            path,
            format!("holds no usable PEM private key: {e}"),
        )
    })?;
    Ok((pem, key))
}

/// The TLS material of one connector, read from its files.
#[derive(Clone)]
pub(crate) struct TlsMaterial {
    /// The CA bundle (`ca-file`); `None`: the system's roots.
    pub(crate) ca: Option<Certs>,
    /// The client certificate and key (`cert-file`, `key-file`), for mutual TLS.
    pub(crate) identity: Option<Identity>,
    /// Accept any server certificate.
    pub(crate) skip_verify: bool,
}

impl TlsMaterial {
    /// Reads the files; a certificate without its key (or the reverse) is an error naming the
    /// missing field.
    pub(crate) fn read(
        store: Store,
        names: [&'static str; 3],
        cert: Option<&str>,
        key: Option<&str>,
        ca: Option<&str>,
        skip_verify: bool,
    ) -> Result<Self> {
        let [cert_field, key_field, ca_field] = names;
        let ca = ca
            .map(|p| read_certs(store, ca_field, Path::new(p)))
            .transpose()?;
        let identity = match (cert, key) {
            (Some(c), Some(k)) => {
                let certs = read_certs(store, cert_field, Path::new(c))?;
                let (key_pem, key) = read_key(store, key_field, Path::new(k))?;
                Some(Identity {
                    certs,
                    key_pem,
                    key,
                })
            }
            (Some(c), None) => {
                return Err(tls_file_err(
                    store,
                    cert_field,
                    Path::new(c),
                    format!("is set but {key_field} is not; a client certificate needs its key"),
                ));
            }
            (None, Some(k)) => {
                return Err(tls_file_err(
                    store,
                    key_field,
                    Path::new(k),
                    format!("is set but {cert_field} is not; a client key needs its certificate"),
                ));
            }
            (None, None) => None,
        };
        Ok(TlsMaterial {
            ca,
            identity,
            skip_verify,
        })
    }

    /// A rustls client config equivalent to what the client library builds from this
    /// material (used for the diagnostic handshake).
    pub(crate) fn client_config(
        &self,
        store: Store,
        alpn_h2: bool,
    ) -> Result<rustls::ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| config_err(store, e))?;
        let mut roots = rustls::RootCertStore::empty();
        match &self.ca {
            Some(ca) => {
                for c in &ca.der {
                    roots.add(c.clone()).map_err(|e| config_err(store, e))?;
                }
            }
            None => {
                // Unusable system roots are skipped: the handshake then names the issuer.
                let _ =
                    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            }
        }
        let builder = if self.skip_verify {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
        } else {
            builder.with_root_certificates(roots)
        };
        let mut config = match &self.identity {
            Some(id) => builder
                .with_client_auth_cert(id.certs.der.clone(), id.key.clone_key())
                .map_err(|e| config_err(store, e))?,
            None => builder.with_no_client_auth(),
        };
        if alpn_h2 {
            config.alpn_protocols = vec![b"h2".to_vec()];
        }
        Ok(config)
    }
}

fn config_err(store: Store, e: rustls::Error) -> ConnectorError {
    ConnectorError::TlsHandshake {
        store,
        endpoint: "(tls settings)".to_owned(),
        reason: e.to_string(),
    }
}

/// Accepts any server certificate: `insecure-skip-tls-verify` / `tls.skip-verify`. The
/// handshake signatures are still checked, so the connection is encrypted, just not
/// authenticated.
#[derive(Debug)]
pub(crate) struct NoVerify(pub(crate) Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
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
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
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

/// What a diagnostic handshake found.
pub(crate) enum Probe {
    /// TLS works (or the endpoint is not reachable, which the normal connect reports).
    Fine,
    /// TLS itself failed: the certificate, or the server refused ours.
    Failed(ConnectorError),
}

/// The HTTP/2 client preface and an empty SETTINGS frame: a gRPC server answers with its own
/// SETTINGS, a server that refused our certificate with a TLS alert.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// Connects to `host:port`, shakes hands with `config`, sends `hello` and reads the first
/// reply bytes, all within `timeout`. A failure of TCP itself (refused, unreachable, timeout)
/// is `Fine`: the caller's normal connect reports it in its own words.
pub(crate) async fn probe(
    store: Store,
    endpoint: &str,
    config: Arc<rustls::ClientConfig>,
    hello: Hello,
    timeout: Duration,
) -> Probe {
    let Some((host, _port)) = endpoint.rsplit_once(':') else {
        return Probe::Fine;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let Ok(name) = ServerName::try_from(host.to_owned()) else {
        return Probe::Fine;
    };
    let failed = |reason: String| {
        Probe::Failed(ConnectorError::TlsHandshake {
            store,
            endpoint: endpoint.to_owned(),
            reason,
        })
    };
    let attempt = async {
        let tcp = match tokio::net::TcpStream::connect(endpoint).await {
            Ok(s) => s,
            Err(_) => return Probe::Fine,
        };
        let connector = tokio_rustls::TlsConnector::from(config);
        let mut tls = match connector.connect(name, tcp).await {
            Ok(s) => s,
            Err(e) => return failed(explain(&e)),
        };
        let bytes: &[u8] = match hello {
            Hello::Http2 => H2_PREFACE,
            Hello::RedisPing => b"PING\r\n",
        };
        if let Err(e) = tls.write_all(bytes).await {
            return failed(explain(&e));
        }
        let mut buf = [0u8; 64];
        match tls.read(&mut buf).await {
            Ok(0) => failed("the server closed the connection right after the handshake".into()),
            Ok(_) => Probe::Fine,
            Err(e) => failed(explain(&e)),
        }
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .unwrap_or(Probe::Fine)
}

/// What the diagnostic handshake says after the handshake.
#[derive(Clone, Copy)]
pub(crate) enum Hello {
    /// gRPC (etcd): the HTTP/2 preface.
    Http2,
    /// Redis: `PING`.
    RedisPing,
}

/// A rustls error inside an io error, in words that say what to fix.
pub(crate) fn explain(e: &std::io::Error) -> String {
    use rustls::{AlertDescription, CertificateError, Error as E};
    let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<E>()) else {
        return e.to_string();
    };
    let hint = match inner {
        E::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "; the server's certificate is not signed by the configured CA (check the CA file)"
        }
        E::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => "; the server's certificate does not name this host",
        E::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. },
        ) => "; the server's certificate has expired",
        E::AlertReceived(
            AlertDescription::CertificateRequired
            | AlertDescription::HandshakeFailure
            | AlertDescription::BadCertificate,
        ) => {
            "; the server requires a client certificate it accepts (check the client certificate and key files)"
        }
        E::AlertReceived(AlertDescription::UnknownCA) => {
            "; the server does not trust our client certificate's CA"
        }
        _ => "",
    };
    format!("{inner}{hint}")
}

/// The full chain of an error's sources, joined with `: ` (client libraries often hide the
/// TLS reason two levels down).
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}
