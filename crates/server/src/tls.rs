//! HTTPS: the server's certificate and key from PEM files, or a certificate made at
//! start by a fresh certificate authority, whose certificate clients then trust
//! (`AWS_CA_BUNDLE` for the AWS CLI and boto3, `--ca-bundle` for `kms`).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Why HTTPS could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TlsError(pub String);

/// What the server answers TLS handshakes with.
#[derive(Clone)]
pub struct TlsConfig {
    acceptor: TlsAcceptor,
    /// The certificate authority that issued a made-up certificate, PEM.
    ca_pem: Option<String>,
    /// Where the certificate came from, for the banner and `Debug`.
    source: String,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// The certificate chain (leaf first) and private key of two PEM files.
    pub fn from_pem_files(certificate: &Path, key: &Path) -> Result<Self, TlsError> {
        let read = |path: &Path| {
            std::fs::read(path)
                .map_err(|e| TlsError(format!("cannot read {}: {e}", path.display())))
        };
        let chain = CertificateDer::pem_slice_iter(&read(certificate)?)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError(format!("{}: not valid PEM ({e})", certificate.display())))?;
        if chain.is_empty() {
            return Err(TlsError(format!(
                "{}: no certificate (-----BEGIN CERTIFICATE-----) in it",
                certificate.display()
            )));
        }
        let key = PrivateKeyDer::from_pem_slice(&read(key)?).map_err(|e| {
            TlsError(format!(
                "{}: no usable private key (PKCS#8, PKCS#1 or SEC1 PEM): {e}",
                key.display()
            ))
        })?;
        Self::new(chain, key, None, certificate.display().to_string())
    }

    /// A certificate for `names` (host names, wildcards such as `*.kms.test`, or IP
    /// addresses), issued at start by a new certificate authority; [`TlsConfig::ca_pem`]
    /// is the authority's certificate.
    /// No names, or a name that is neither a host name nor an IP address, is an error:
    /// no client could verify such a certificate for the endpoint it calls.
    pub fn self_signed(names: &[String]) -> Result<Self, TlsError> {
        if names.is_empty() {
            return Err(TlsError(
                "a certificate needs at least one host name or IP address (e.g. 127.0.0.1, \
                 localhost): one for no names is valid for no endpoint"
                    .to_owned(),
            ));
        }
        if let Some(name) = names
            .iter()
            // A wildcard (`*.kms.test`) names the host names one label deeper.
            .map(|name| name.strip_prefix("*.").unwrap_or(name))
            .find(|name| rustls::pki_types::ServerName::try_from(*name).is_err())
        {
            return Err(TlsError(format!(
                "'{name}' is neither a host name nor an IP address: no client could verify \
                 a certificate for it"
            )));
        }
        let fail = |e: rcgen::Error| TlsError(format!("cannot make a certificate: {e}"));
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "kms-server local CA");
        let ca = rcgen::CertifiedIssuer::self_signed(
            ca_params,
            rcgen::KeyPair::generate().map_err(fail)?,
        )
        .map_err(fail)?;
        let key = rcgen::KeyPair::generate().map_err(fail)?;
        let leaf = rcgen::CertificateParams::new(names.to_vec())
            .map_err(fail)?
            .signed_by(&key, &ca)
            .map_err(fail)?;
        Self::new(
            vec![leaf.der().clone()],
            PrivateKeyDer::from(key),
            Some(ca.pem()),
            format!("a certificate for {} made at start", names.join(", ")),
        )
    }

    fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        ca_pem: Option<String>,
        source: String,
    ) -> Result<Self, TlsError> {
        // ring rather than aws-lc-rs, as kms-client: no C toolchain to build. rustls
        // 0.23.48 deprecates its provider for offering no post-quantum key exchange,
        // which the SDKs do not require of an endpoint.
        #[allow(deprecated)]
        let provider = rustls::crypto::ring::default_provider();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| {
                TlsError(format!(
                    "{source}: the certificate and key do not go together: {e}"
                ))
            })?;
        Ok(Self {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            ca_pem,
            source,
        })
    }

    /// The PEM certificate of the authority that issued a made-up certificate.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Where the certificate came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The tokio-rustls acceptor, for embedders that accept connections themselves.
    pub fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_certificates_come_with_their_authority() {
        let tls = TlsConfig::self_signed(&["localhost".into(), "127.0.0.1".into()]).unwrap();
        assert!(
            tls.ca_pem()
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        assert!(format!("{tls:?}").contains("localhost, 127.0.0.1"));
    }

    /// A certificate for no names, or for a name no client could ask for, was made
    /// and served: every handshake then failed, naming the certificate, not the call.
    #[test]
    fn a_made_up_certificate_needs_names_clients_can_verify() {
        let e = TlsConfig::self_signed(&[]).unwrap_err();
        assert!(e.0.contains("at least one host name or IP address"), "{e}");
        let e = TlsConfig::self_signed(&["127.0.0.1".into(), "not a host!".into()]).unwrap_err();
        assert!(e.0.contains("'not a host!' is neither"), "{e}");
        TlsConfig::self_signed(&["::1".into(), "kms.local".into()]).unwrap();
        // A wildcard is a name clients verify (a.kms.test), as before the check.
        TlsConfig::self_signed(&["*.kms.test".into()]).unwrap();
        for name in ["*", "*.", "a.*.test", "**.test"] {
            let e = TlsConfig::self_signed(&[name.into()]).unwrap_err();
            assert!(e.0.contains("is neither"), "{name}: {e}");
        }
    }

    #[test]
    fn files_are_named_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        let e = TlsConfig::from_pem_files(&cert, &key).unwrap_err();
        assert!(e.0.contains("cert.pem"), "{e}");

        std::fs::write(&cert, "no pem here").unwrap();
        let e = TlsConfig::from_pem_files(&cert, &key).unwrap_err();
        assert!(e.0.contains("no certificate"), "{e}");

        let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        std::fs::write(&cert, made.cert.pem()).unwrap();
        std::fs::write(
            &key,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let e = TlsConfig::from_pem_files(&cert, &key).unwrap_err();
        assert!(
            e.0.contains("key.pem") && e.0.contains("private key"),
            "{e}"
        );

        let other = rcgen::KeyPair::generate().unwrap();
        std::fs::write(&key, other.serialize_pem()).unwrap();
        let e = TlsConfig::from_pem_files(&cert, &key).unwrap_err();
        assert!(e.0.contains("do not go together"), "{e}");

        std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
        TlsConfig::from_pem_files(&cert, &key).unwrap();
    }
}
