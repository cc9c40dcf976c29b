//! TLS for the REST server, from Ligato's `http.conf` fields: `server-cert-file` and
//! `server-key-file` (PEM) turn HTTPS on; `client-cert-files` (PEM CA certificates) make it
//! mutual: a client must present a certificate signed by one of them.
//!
//! rustls with the ring provider, as the gRPC server and the store connectors use (no openssl,
//! no aws-lc). Errors name the field and the file.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

use super::ServerConfig;

fn certs(field: &str, path: &str) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| anyhow::anyhow!("http {field} {path}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("http {field} {path}: {e}"))?;
    if certs.is_empty() {
        anyhow::bail!("http {field} {path}: no PEM certificate in it");
    }
    Ok(certs)
}

/// The rustls config the settings ask for, or `None` for plain HTTP.
pub fn server_config(cfg: &ServerConfig) -> anyhow::Result<Option<rustls::ServerConfig>> {
    match (
        cfg.server_cert_file.is_empty(),
        cfg.server_key_file.is_empty(),
    ) {
        (true, true) if cfg.client_cert_files.is_empty() => return Ok(None),
        (true, true) => anyhow::bail!(
            "http client-cert-files is set but server-cert-file and server-key-file are not"
        ),
        (false, true) => anyhow::bail!(
            "http server-cert-file {} is set but server-key-file is not",
            cfg.server_cert_file
        ),
        (true, false) => anyhow::bail!(
            "http server-key-file {} is set but server-cert-file is not",
            cfg.server_key_file
        ),
        (false, false) => {}
    }
    let chain = certs("server-cert-file", &cfg.server_cert_file)?;
    let key = PrivateKeyDer::from_pem_file(&cfg.server_key_file)
        .map_err(|e| anyhow::anyhow!("http server-key-file {}: {e}", cfg.server_key_file))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = if cfg.client_cert_files.is_empty() {
        builder.with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        for path in &cfg.client_cert_files {
            for cert in certs("client-cert-files", path)? {
                roots
                    .add(cert)
                    .map_err(|e| anyhow::anyhow!("http client-cert-files {path}: {e}"))?;
            }
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| anyhow::anyhow!("http client-cert-files: {e}"))?;
        builder.with_client_cert_verifier(verifier)
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|e| {
        anyhow::anyhow!(
            "http server-cert-file {} and server-key-file {}: {e}",
            cfg.server_cert_file,
            cfg.server_key_file
        )
    })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(config))
}
