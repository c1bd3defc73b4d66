//! HTTPS trust: which certificate authorities the client accepts — Mozilla's roots,
//! built in, or a PEM bundle chosen as the AWS CLI chooses one (`--ca-bundle`, then
//! `AWS_CA_BUNDLE`, then the profile's `ca_bundle`) — and telling a rejected
//! certificate apart from other transport failures.

use std::fmt;
use std::path::{Path, PathBuf};

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::config::ConfigError;

/// Certificate authorities to trust for HTTPS *instead of* the built-in Mozilla roots,
/// as `AWS_CA_BUNDLE` does for the AWS CLI: for an endpoint whose certificate a private
/// CA issued (a TLS proxy in front of kms-server, a corporate TLS proxy).
#[derive(Clone, PartialEq, Eq)]
pub struct CaBundle {
    path: Option<PathBuf>,
    certificates: Vec<CertificateDer<'static>>,
}

impl fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaBundle")
            .field("path", &self.path)
            .field("certificates", &self.certificates.len())
            .finish()
    }
}

impl CaBundle {
    /// The certificates of a PEM file (`-----BEGIN CERTIFICATE-----` blocks; other
    /// blocks, such as keys, are skipped).
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        Self::load(path.as_ref(), "CaBundle::from_pem_file")
    }

    /// The certificates of PEM text.
    pub fn from_pem(pem: &[u8]) -> Result<Self, ConfigError> {
        Self::parse(pem, None, "CaBundle::from_pem")
    }

    /// The file the bundle was read from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The CA certificates, DER-encoded, in file order.
    pub fn certificates(&self) -> &[CertificateDer<'static>] {
        &self.certificates
    }

    /// Reads the bundle at `path`; `origin` (a flag, a variable, a profile line) is
    /// named in errors.
    pub(crate) fn load(path: &Path, origin: &str) -> Result<Self, ConfigError> {
        let pem = std::fs::read(path).map_err(|e| invalid(Some(path), origin, e.to_string()))?;
        Self::parse(&pem, Some(path), origin)
    }

    fn parse(pem: &[u8], path: Option<&Path>, origin: &str) -> Result<Self, ConfigError> {
        // Without the UTF-8 byte order mark some editors write first, which OpenSSL (the
        // AWS CLI's, boto3's) skips.
        let pem = pem.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(pem);
        let certificates = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(path, origin, format!("it is not valid PEM ({e})")))?;
        if certificates.is_empty() {
            return Err(invalid(
                path,
                origin,
                "it holds no certificate (no -----BEGIN CERTIFICATE----- block)".to_owned(),
            ));
        }
        #[cfg(feature = "rustls")]
        for (i, certificate) in certificates.iter().enumerate() {
            rustls::RootCertStore::empty()
                .add(certificate.clone())
                .map_err(|e| {
                    invalid(
                        path,
                        origin,
                        format!(
                            "certificate {} of {} cannot be used: {e}",
                            i + 1,
                            certificates.len()
                        ),
                    )
                })?;
        }
        Ok(Self {
            path: path.map(Path::to_owned),
            certificates,
        })
    }
}

fn invalid(path: Option<&Path>, origin: &str, reason: String) -> ConfigError {
    ConfigError::InvalidCaBundle {
        path: path.map(Path::to_owned),
        origin: origin.to_owned(),
        reason,
    }
}

/// The rustls configuration of the HTTPS connector: TLS 1.2 and 1.3 on ring, trusting
/// `ca_bundle` when given, else Mozilla's roots.
#[cfg(feature = "rustls")]
pub(crate) fn client_config(ca_bundle: Option<&CaBundle>) -> rustls::ClientConfig {
    let roots = match ca_bundle {
        Some(bundle) => {
            let mut roots = rustls::RootCertStore::empty();
            // Every certificate was checked when the bundle was built.
            roots.add_parsable_certificates(bundle.certificates.iter().cloned());
            roots
        }
        None => rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
    };
    // ring rather than aws-lc-rs: no C toolchain or cmake to build, a fraction of the
    // build time. rustls 0.23.48 deprecates its provider for offering no post-quantum key
    // exchange; its classic ECDHE groups are ones every KMS endpoint accepts.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(provider))
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the safe default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// Whether the server's certificate was rejected somewhere in `error`'s chain (an
/// unknown issuer, a name that does not match, an expired certificate, ...): no retry
/// can change that.
pub(crate) fn is_rejected_certificate(error: &(dyn std::error::Error + 'static)) -> bool {
    #[cfg(feature = "rustls")]
    {
        has_rustls_error(error, |e| matches!(e, rustls::Error::InvalidCertificate(_)))
    }
    #[cfg(not(feature = "rustls"))]
    {
        let _ = error;
        false
    }
}

/// What to do about the certificate rejected somewhere in `error`'s chain (see
/// [`is_rejected_certificate`]), for [`Error::Certificate`](crate::Error::Certificate)'s
/// message: it names another host, it is out of its validity period, or (anything else,
/// mostly) the client does not trust its issuer.
pub(crate) fn rejected_certificate_hint(error: &(dyn std::error::Error + 'static)) -> &'static str {
    #[cfg(feature = "rustls")]
    {
        use rustls::CertificateError as E;
        let rejected = |is: fn(&E) -> bool| {
            has_rustls_error(
                error,
                |e| matches!(e, rustls::Error::InvalidCertificate(c) if is(c)),
            )
        };
        if rejected(|c| matches!(c, E::NotValidForName | E::NotValidForNameContext { .. })) {
            return "it does not name the endpoint's host: call the endpoint by a name the \
                    certificate lists (the one of kms-server --tls-self-signed lists localhost, \
                    127.0.0.1 and ::1)";
        }
        if rejected(|c| {
            matches!(
                c,
                E::Expired
                    | E::ExpiredContext { .. }
                    | E::NotValidYet
                    | E::NotValidYetContext { .. }
            )
        }) {
            return "it is expired or not yet valid: check this machine's clock, or have the \
                    certificate renewed";
        }
    }
    #[cfg(not(feature = "rustls"))]
    let _ = error;
    "if a private certificate authority issued it (a TLS proxy in front of kms-server, a \
     corporate proxy), trust that CA with --ca-bundle, AWS_CA_BUNDLE or ca_bundle in the \
     profile (a PEM file)"
}

/// Whether the server answered the TLS handshake with something that is not TLS
/// (`InvalidContentType`): most likely a plain-HTTP server behind an `https://` endpoint.
pub(crate) fn is_plain_text_answer(error: &(dyn std::error::Error + 'static)) -> bool {
    #[cfg(feature = "rustls")]
    {
        has_rustls_error(error, |e| {
            matches!(
                e,
                rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)
            )
        })
    }
    #[cfg(not(feature = "rustls"))]
    {
        let _ = error;
        false
    }
}

/// Whether a rustls error for which `is` holds is somewhere in `error`'s chain.
#[cfg(feature = "rustls")]
fn has_rustls_error(
    error: &(dyn std::error::Error + 'static),
    is: impl Fn(&rustls::Error) -> bool,
) -> bool {
    // `io::Error::source` skips the error an `io::Error` wraps (which may be another
    // `io::Error`), so walk into wrapped errors as well as along sources.
    let mut pending = vec![error];
    while let Some(e) = pending.pop() {
        if e.downcast_ref().is_some_and(&is) {
            return true;
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            pending.push(inner);
        }
        pending.extend(e.source());
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_without_certificates_is_refused_with_its_origin() {
        let error = CaBundle::from_pem(b"just text\n").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("CaBundle::from_pem"), "{message}");
        assert!(message.contains("no certificate"), "{message}");
    }

    /// A bundle that starts with a byte order mark held "no certificate".
    #[test]
    fn a_byte_order_mark_is_skipped() {
        let ca = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let pem = [b"\xEF\xBB\xBF".as_slice(), ca.cert.pem().as_bytes()].concat();
        let bundle = CaBundle::from_pem(&pem).unwrap();
        assert_eq!(bundle.certificates().len(), 1);
    }

    #[test]
    fn truncated_pem_is_refused() {
        let error = CaBundle::from_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n").unwrap_err();
        assert!(error.to_string().contains("not valid PEM"), "{error}");
    }

    #[test]
    fn a_missing_file_is_named() {
        let error = CaBundle::from_pem_file("/nonexistent/ca.pem").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("/nonexistent/ca.pem"), "{message}");
        assert!(message.contains("CaBundle::from_pem_file"), "{message}");
    }

    #[cfg(feature = "rustls")]
    #[test]
    fn a_block_that_is_not_a_certificate_is_refused() {
        let pem = b"-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
        let error = CaBundle::from_pem(pem).unwrap_err();
        assert!(error.to_string().contains("certificate 1 of 1"), "{error}");
    }

    #[test]
    fn io_errors_without_a_certificate_error_are_not_rejections() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(!is_rejected_certificate(&io));
    }

    #[cfg(feature = "rustls")]
    #[test]
    fn a_certificate_error_inside_an_io_error_is_a_rejection() {
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        assert!(is_rejected_certificate(&io));
        // As hyper-rustls reports it: an io::Error around tokio-rustls's io::Error.
        let wrapped = std::io::Error::other(io);
        assert!(is_rejected_certificate(&wrapped));
        let other =
            std::io::Error::new(std::io::ErrorKind::InvalidData, rustls::Error::DecryptError);
        assert!(!is_rejected_certificate(&other));
    }
}
