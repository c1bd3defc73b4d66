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
    /// The server's own certificate.
    leaf: CertificateDer<'static>,
    /// What clients will refuse in it ([`TlsConfig::certificate_problem`]).
    problem: Option<String>,
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
    ///
    /// Refused, naming the file and what is wrong: a file that holds no PEM certificate
    /// (or key), a DER file, an encrypted key, a key kms-server cannot sign with, and a
    /// key that is not the first certificate's (the chain out of order included). A
    /// certificate clients refuse whatever CA they trust (expired, not yet valid, a CA
    /// certificate as the server's own) is served, and said by
    /// [`certificate_problem`](Self::certificate_problem).
    pub fn from_pem_files(certificate: &Path, key: &Path) -> Result<Self, TlsError> {
        let read = |path: &Path| {
            std::fs::read(path)
                .map_err(|e| TlsError(format!("cannot read {}: {e}", path.display())))
        };
        let (cert_name, key_name) = (certificate.display(), key.display());
        let cert_pem = read(certificate)?;
        let cert_pem = crate::data::without_bom(&cert_pem);
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError(format!("{cert_name}: not valid PEM ({e})")))?;
        if chain.is_empty() {
            return Err(TlsError(format!(
                "{cert_name}: no certificate (-----BEGIN CERTIFICATE-----) in it{}",
                not_pem_hint(
                    cert_pem,
                    &cert_name.to_string(),
                    "x509",
                    b"PRIVATE KEY-----",
                    "a private key"
                )
            )));
        }
        let key_pem = read(key)?;
        let key_pem = crate::data::without_bom(&key_pem);
        if contains(key_pem, b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
            || contains(key_pem, b"Proc-Type: 4,ENCRYPTED")
        {
            return Err(TlsError(format!(
                "{key_name}: the private key is encrypted, and kms-server asks for no passphrase: \
                 give it the key decrypted (openssl pkey -in {key_name} -out key.pem)"
            )));
        }
        let private_key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| {
            TlsError(format!(
                "{key_name}: no usable private key (PKCS#8, PKCS#1 or SEC1 PEM): {e}{}",
                not_pem_hint(
                    key_pem,
                    &key_name.to_string(),
                    "pkey",
                    b"-----BEGIN CERTIFICATE-----",
                    "a certificate"
                )
            ))
        })?;
        let signing_key = provider()
            .key_provider
            .load_private_key(private_key.clone_key())
            .map_err(|e| {
                TlsError(format!(
                    "{key_name}: kms-server cannot sign with this key ({e}): it takes RSA keys \
                     of 2048 to 8192 bits, ECDSA keys on P-256 or P-384, and Ed25519 keys"
                ))
            })?;
        let parsed = chain
            .iter()
            .enumerate()
            .map(|(i, der)| {
                rustls::server::ParsedCertificate::try_from(der).map_err(|e| {
                    TlsError(format!(
                        "{cert_name}: certificate {} of {} is not an X.509 certificate kms-server \
                         can read: {e}",
                        i + 1,
                        chain.len()
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(spki) = signing_key.public_key() {
            let matches = |cert: &rustls::server::ParsedCertificate<'_>| {
                cert.subject_public_key_info() == spki
            };
            if !matches(&parsed[0]) {
                let Some(i) = parsed.iter().position(matches) else {
                    let keys = PrivateKeyDer::pem_slice_iter(key_pem).count();
                    let first = if keys > 1 {
                        format!(" ({key_name} holds {keys} private keys: the first is used)")
                    } else {
                        String::new()
                    };
                    return Err(TlsError(format!(
                        "{cert_name} and {key_name}: the certificate and key do not go together: \
                         the key{first} is not the one of the certificate (the first in {cert_name})"
                    )));
                };
                return Err(TlsError(format!(
                    "{cert_name}: the key of {key_name} is the one of certificate {} of {}, not \
                     of the first: the server's own certificate comes first, then the ones that \
                     issued it",
                    i + 1,
                    chain.len()
                )));
            }
        }
        // The checks of the server's own certificate that need no issuer: with no trust
        // anchor nor intermediate, any other failure is found before the (certain)
        // unknown issuer. Said, not refused: a test of how code handles an expired
        // certificate serves one on purpose.
        let problem = match rustls::client::verify_server_cert_signed_by_trust_anchor(
            &parsed[0],
            &rustls::RootCertStore::empty(),
            &[],
            rustls::pki_types::UnixTime::now(),
            provider().signature_verification_algorithms.all,
        ) {
            Ok(())
            | Err(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)) => {
                None
            }
            Err(e) => {
                let e = e.to_string();
                Some(if e.contains("CaUsedAsEndEntity") {
                    "it is a CA certificate (basicConstraints CA:TRUE), which rustls-based \
                     clients refuse: serve one it issued"
                        .to_owned()
                } else {
                    e
                })
            }
        };
        let mut config = Self::new(chain, private_key, None, cert_name.to_string())?;
        config.problem = problem;
        Ok(config)
    }

    /// What clients will refuse in the server's own certificate whatever CA they trust
    /// (expired, not yet valid, a CA certificate), when [`from_pem_files`] found it: the
    /// banner warns of it.
    ///
    /// [`from_pem_files`]: Self::from_pem_files
    pub fn certificate_problem(&self) -> Option<&str> {
        self.problem.as_deref()
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
        let leaf = chain[0].clone();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(provider()))
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
            leaf,
            problem: None,
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

    /// Whether the server's certificate is valid for `host` (a host name or an IP
    /// address, as in an endpoint URL): the name a client checks it against. A name only
    /// in the subject's common name (CN), not in subjectAltName, counts for no client.
    pub fn is_valid_for(&self, host: &str) -> bool {
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let (Ok(name), Ok(cert)) = (
            rustls::pki_types::ServerName::try_from(host),
            rustls::server::ParsedCertificate::try_from(&self.leaf),
        ) else {
            return false;
        };
        rustls::client::verify_server_name(&cert, &name).is_ok()
    }

    /// The tokio-rustls acceptor, for embedders that accept connections themselves.
    pub fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}

/// ring rather than aws-lc-rs, as kms-client: no C toolchain to build. rustls 0.23.48
/// deprecates its provider for offering no post-quantum key exchange, which the SDKs do
/// not require of an endpoint.
fn provider() -> rustls::crypto::CryptoProvider {
    #[allow(deprecated)]
    rustls::crypto::ring::default_provider()
}

fn contains(text: &[u8], needle: &[u8]) -> bool {
    text.windows(needle.len()).any(|w| w == needle)
}

/// Why `file` holds none of the PEM blocks looked for, when that can be told: it is DER
/// (binary; `openssl <command> -inform DER` converts it), or holds `other_block` (what
/// the other option takes) instead.
fn not_pem_hint(text: &[u8], file: &str, command: &str, other_block: &[u8], other: &str) -> String {
    // DER: an ASN.1 SEQUENCE, where PEM is text.
    if text.first() == Some(&0x30) && std::str::from_utf8(text).is_err() {
        format!(
            ": it is DER (binary), not PEM; convert it: openssl {command} -inform DER -in {file} -out {file}.pem"
        )
    } else if contains(text, other_block) {
        format!(": it holds {other}: are --tls-cert and --tls-key swapped?")
    } else {
        String::new()
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
