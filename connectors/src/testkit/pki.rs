//! A throwaway PKI for TLS tests, made with `rcgen` in a temporary directory: a CA, a server
//! certificate for `127.0.0.1`/`localhost` signed by it, a client certificate signed by it,
//! and a second, unrelated CA (for "wrong CA" cases). All files are PEM.
//!
//! Deliberately not here: anything a real deployment would use (the keys are generated per
//! test and deleted with the directory).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tempfile::TempDir;

use super::TestResult;

/// The files of a test PKI; removed on drop.
#[derive(Debug)]
pub struct TestPki {
    dir: TempDir,
    /// The CA that signed the server and client certificates.
    pub ca: PathBuf,
    /// The server certificate (SANs `127.0.0.1`, `localhost`) and its key.
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// A client certificate (CN `vpp-agent`) and its key.
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// A CA that signed nothing here.
    pub other_ca: PathBuf,
}

fn ca(name: &str) -> TestResult<(rcgen::Certificate, Issuer<'static, KeyPair>)> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok((cert, Issuer::new(params, key)))
}

fn leaf(
    name: &str,
    sans: Vec<String>,
    usages: Vec<ExtendedKeyUsagePurpose>,
    issuer: &Issuer<'static, KeyPair>,
) -> TestResult<(String, String)> {
    let mut params = CertificateParams::new(sans)?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = usages;
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, issuer)?;
    Ok((cert.pem(), key.serialize_pem()))
}

impl TestPki {
    /// Generates the certificates into a new temporary directory.
    pub fn generate() -> TestResult<Self> {
        let dir = tempfile::tempdir()?;
        let write = |name: &str, text: &str| -> TestResult<PathBuf> {
            let path = dir.path().join(name);
            std::fs::write(&path, text)?;
            Ok(path)
        };
        let (ca_cert, issuer) = ca("vpp-agent test CA")?;
        let (other_cert, _) = ca("unrelated test CA")?;
        let (server_cert, server_key) = leaf(
            "test server",
            vec!["127.0.0.1".into(), "localhost".into()],
            // etcd also dials itself with its server certificate (grpc-gateway).
            vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
            &issuer,
        )?;
        let (client_cert, client_key) = leaf(
            "vpp-agent",
            Vec::new(),
            vec![ExtendedKeyUsagePurpose::ClientAuth],
            &issuer,
        )?;
        Ok(TestPki {
            ca: write("ca.pem", &ca_cert.pem())?,
            server_cert: write("server.pem", &server_cert)?,
            server_key: write("server-key.pem", &server_key)?,
            client_cert: write("client.pem", &client_cert)?,
            client_key: write("client-key.pem", &client_key)?,
            other_ca: write("other-ca.pem", &other_cert.pem())?,
            dir,
        })
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// What a TLS test server asks of its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// A client certificate signed by the test CA is required (mutual TLS).
    Required,
    /// No client certificate is asked for.
    None,
}

/// The TLS files a client of a test server uses.
#[derive(Debug, Clone)]
pub struct ClientTls {
    pub ca: PathBuf,
    /// Certificate and key, when the server requires them.
    pub identity: Option<(PathBuf, PathBuf)>,
}

impl ClientTls {
    /// The client side matching `auth` on a server of `pki`.
    pub fn for_server(pki: &TestPki, auth: ClientAuth) -> Self {
        ClientTls {
            ca: pki.ca.clone(),
            identity: (auth == ClientAuth::Required)
                .then(|| (pki.client_cert.clone(), pki.client_key.clone())),
        }
    }

    /// Etcd options with these files.
    pub fn etcd(&self, mut o: crate::EtcdOptions) -> crate::EtcdOptions {
        o.insecure_transport = false;
        o.ca_file = Some(self.ca.display().to_string());
        if let Some((c, k)) = &self.identity {
            o.cert_file = Some(c.display().to_string());
            o.key_file = Some(k.display().to_string());
        }
        o
    }

    /// Redis options with these files.
    pub fn redis(&self, mut o: crate::RedisOptions) -> crate::RedisOptions {
        o.tls = Some(crate::RedisTlsOptions {
            skip_verify: false,
            cert_file: self.identity.as_ref().map(|(c, _)| c.display().to_string()),
            key_file: self.identity.as_ref().map(|(_, k)| k.display().to_string()),
            ca_file: Some(self.ca.display().to_string()),
        });
        o
    }
}
