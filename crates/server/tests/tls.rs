//! kms-server over HTTPS on 127.0.0.1: answers through TLS, and a client that does not
//! complete its handshake (or speaks plain HTTP) is dropped without disturbing others.

mod common;

use std::sync::Arc;
use std::time::Duration;

use kms_server::{ServerConfig, TlsConfig};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start(timeout: Duration) -> (kms_server::RunningServer, String) {
    start_with(ServerConfig::demo().with_header_read_timeout(timeout)).await
}

async fn start_with(config: ServerConfig) -> (kms_server::RunningServer, String) {
    let tls = TlsConfig::self_signed(&["127.0.0.1".to_owned()]).unwrap();
    let ca = tls.ca_pem().unwrap().to_owned();
    let server = common::start(config.with_tls(tls)).await;
    (server, ca)
}

/// A TLS client trusting the CA certificate `ca` (PEM) alone.
fn connector_trusting(ca: &str) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca.as_bytes()).unwrap())
        .unwrap();
    // The provider kms-server uses (deprecated since rustls 0.23.48: no post-quantum
    // key exchange).
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// One HTTP/1.1 request over TLS, trusting `ca`; the response head and body as text.
async fn exchange(addr: std::net::SocketAddr, ca: &str, request: &str) -> String {
    let connector = connector_trusting(ca);
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = connector.connect(name, tcp).await.unwrap();
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response).into_owned()
}

const UNSIGNED: &str = "POST / HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/x-amz-json-1.1\r\n\
x-amz-target: TrentService.DescribeCustomKeyStores\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";

#[tokio::test]
async fn answers_over_tls() {
    let (server, ca) = start(Duration::from_secs(10)).await;
    assert!(
        server.endpoint().starts_with("https://127.0.0.1:"),
        "{}",
        server.endpoint()
    );
    let response = exchange(server.local_addr(), &ca, UNSIGNED).await;
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(
        response.contains("MissingAuthenticationTokenException"),
        "{response}"
    );
}

/// At the connection limit, a connection that has not finished its handshake (no request
/// yet) makes room for a new one, as an idle connection does: it is not held until the
/// handshake timeout (an hour here).
#[tokio::test]
async fn at_the_limit_a_stalled_handshake_makes_room() {
    let config = ServerConfig::demo()
        .with_max_connections(1)
        .with_header_read_timeout(Duration::from_secs(3600));
    let (server, ca) = start_with(config).await;
    let addr = server.local_addr();
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let response = tokio::time::timeout(Duration::from_secs(20), exchange(addr, &ca, UNSIGNED))
        .await
        .expect("served while the stalled handshake held the only place");
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), silent.read_to_end(&mut rest));
    assert_eq!(read.await.expect("the stalled one is closed").unwrap(), 0);
}

#[tokio::test]
async fn stalled_handshakes_and_plain_http_are_dropped_and_others_are_served() {
    let (server, ca) = start(Duration::from_millis(300)).await;
    let addr = server.local_addr();

    // Connects and never starts the handshake: closed once the timeout has passed.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "not closed: {read:?}"
    );

    // Plain HTTP to the TLS port: the handshake fails and the connection ends.
    let mut plain = TcpStream::connect(addr).await.unwrap();
    plain.write_all(UNSIGNED.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "a plain HTTP client was left hanging");
    assert!(!String::from_utf8_lossy(&answer).contains("HTTP/1.1 200"));

    // The server still serves TLS clients.
    let response = exchange(addr, &ca, UNSIGNED).await;
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    server.shutdown().await;
}

#[test]
fn the_binary_refuses_unusable_tls_settings_naming_them() {
    let run = |args: &[&str]| {
        let output = common::kms_server_binary()
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, stderr) = run(&[
        "--tls-cert",
        "/nonexistent/cert.pem",
        "--tls-key",
        "/nonexistent/key.pem",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("cannot read /nonexistent/cert.pem"),
        "{stderr}"
    );
    let (ok, stderr) = run(&["--tls-key", "/nonexistent/key.pem"]);
    assert!(!ok);
    assert!(stderr.contains("--tls-cert"), "{stderr}");
    let (ok, stderr) = run(&[
        "--tls-self-signed",
        "--tls-cert",
        "c.pem",
        "--tls-key",
        "k.pem",
    ]);
    assert!(!ok);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}

/// An ECDSA key on P-521, which ring (and so kms-server) cannot sign with.
const P521_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIHuAgEAMBAGByqGSM49AgEGBSuBBAAjBIHWMIHTAgEBBEIBqIs3oJiMKMQ/EcqC
lL1IWz5NvvPbWMEvvfkRUf5nOap0UL0wmDM///gKzAFmOOGBrbeU/IUcK+7XlKZw
BFkA4c+hgYkDgYYABABsZLA+JpGGm/pUVANZYdL0gFJAYPmntzSELEsydGABD03D
AVu3+ITFCBfLMct6U6AHBsXQP5CL2FqWGgKyJPF/BQAhW0Bw2iduK0zDvCXIQPJu
JDjqlYbxllzU0zEZ7i9Js4l/D9errISMh+X3WsKNhg/cIPHISWqPlIlK62sa6KGp
bA==
-----END PRIVATE KEY-----
";

/// A certificate for 127.0.0.1 and its key, issued by `issuer` (else self-signed), with
/// `adjust` applied to its parameters.
fn certificate(
    issuer: Option<&rcgen::CertifiedIssuer<'_, rcgen::KeyPair>>,
    adjust: impl FnOnce(&mut rcgen::CertificateParams),
) -> (rcgen::Certificate, rcgen::KeyPair) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    adjust(&mut params);
    let cert = match issuer {
        Some(issuer) => params.signed_by(&key, issuer).unwrap(),
        None => params.self_signed(&key).unwrap(),
    };
    (cert, key)
}

/// Each certificate or key a user can hand `--tls-cert` / `--tls-key` that no client
/// could use is refused at start, naming the file and what is wrong. Before, a key
/// kms-server cannot sign with was "not going with" the certificate, an encrypted key
/// or a DER file held "no items", a chain out of order did "not go together", a PEM
/// file that starts with a byte order mark held no certificate, and an expired, not yet
/// valid or CA certificate was served: every handshake then failed.
#[test]
fn unusable_certificates_and_keys_are_refused_saying_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let load = |cert: &str, key: &str| TlsConfig::from_pem_files(&path(cert), &path(key));
    let refused = |cert: &str, key: &str, says: &[&str]| {
        let e = load(cert, key).unwrap_err().0;
        for part in says {
            assert!(e.contains(part), "{cert} {key}: {part:?} not in: {e}");
        }
    };
    let write = |name: &str, content: &[u8]| std::fs::write(path(name), content).unwrap();

    let (cert, key) = certificate(None, |_| {});
    write("cert.pem", cert.pem().as_bytes());
    write("key.pem", key.serialize_pem().as_bytes());
    load("cert.pem", "key.pem").unwrap();

    // A byte order mark, as some editors write, before either file's PEM.
    let bom = |pem: String| [b"\xEF\xBB\xBF".as_slice(), pem.as_bytes()].concat();
    write("bom-cert.pem", &bom(cert.pem()));
    write("bom-key.pem", &bom(key.serialize_pem()));
    load("bom-cert.pem", "bom-key.pem").unwrap();

    write("p521.pem", P521_KEY.as_bytes());
    refused(
        "cert.pem",
        "p521.pem",
        &["p521.pem: ", "cannot sign with this key", "P-256"],
    );

    let encrypted =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBAA==\n-----END ENCRYPTED PRIVATE KEY-----\n";
    write("encrypted.pem", encrypted.as_bytes());
    refused(
        "cert.pem",
        "encrypted.pem",
        &["encrypted.pem: ", "encrypted"],
    );

    write("cert.der", cert.der());
    refused("cert.der", "key.pem", &["cert.der: ", "DER"]);
    write("key.der", key.serialized_der());
    refused("cert.pem", "key.der", &["key.der: ", "DER"]);
    refused("key.pem", "cert.pem", &["key.pem: ", "swapped"]);

    let other = rcgen::KeyPair::generate().unwrap();
    write("other.pem", other.serialize_pem().as_bytes());
    refused(
        "cert.pem",
        "other.pem",
        &["cert.pem and /", "other.pem: ", "do not go together"],
    );

    // Issued by an intermediate CA: the chain leaf first is served, the other way round
    // is refused, saying which certificate the key is for.
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "an intermediate CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let (leaf, leaf_key) = certificate(Some(&ca), |_| {});
    write("leaf-key.pem", leaf_key.serialize_pem().as_bytes());
    write(
        "chain.pem",
        format!("{}{}", leaf.pem(), ca.pem()).as_bytes(),
    );
    load("chain.pem", "leaf-key.pem").unwrap();
    write(
        "reversed.pem",
        format!("{}{}", ca.pem(), leaf.pem()).as_bytes(),
    );
    refused(
        "reversed.pem",
        "leaf-key.pem",
        &["reversed.pem: ", "certificate 2 of 2", "first"],
    );

    // A certificate clients refuse, whatever CA they trust: expired, not yet valid, a
    // CA's. Served (a test may want just that), and said.
    for (name, valid, is_ca, says) in [
        ("expired", (2020, 2021), false, "expired"),
        ("future", (4000, 4001), false, "not valid yet"),
        ("ca", (2020, 4000), true, "CA certificate"),
    ] {
        let (cert, key) = certificate(None, |p| {
            p.not_before = rcgen::date_time_ymd(valid.0, 1, 1);
            p.not_after = rcgen::date_time_ymd(valid.1, 1, 1);
            if is_ca {
                p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            }
        });
        let (cert_file, key_file) = (format!("{name}.pem"), format!("{name}-key.pem"));
        write(&cert_file, cert.pem().as_bytes());
        write(&key_file, key.serialize_pem().as_bytes());
        let served = load(&cert_file, &key_file).unwrap();
        let problem = served.certificate_problem().unwrap_or_default();
        assert!(problem.contains(says), "{name}: {problem}");
        let head = banner_head(&[
            "--tls-cert",
            path(&cert_file).to_str().unwrap(),
            "--tls-key",
            path(&key_file).to_str().unwrap(),
        ]);
        assert!(
            head.contains("warning: clients refuse the certificate") && head.contains(says),
            "{name}: {head}"
        );
    }
    assert_eq!(
        load("cert.pem", "key.pem").unwrap().certificate_problem(),
        None
    );
}

/// The banner's lines up to the blank line after its summary, from `kms-server ARGS`.
fn banner_head(args: &[&str]) -> String {
    banner_head_in(std::path::Path::new("."), args)
}

/// [`banner_head`], the server started in `dir`.
fn banner_head_in(dir: &std::path::Path, args: &[&str]) -> String {
    use std::io::BufRead;
    let mut child = common::Killed(
        common::kms_server_binary()
            .current_dir(dir)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = std::io::BufReader::new(child.0.stdout.take().unwrap());
    let mut head = String::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        if line.is_empty() {
            break;
        }
        head.push_str(&line);
        head.push('\n');
    }
    head
}

/// A certificate of `--tls-cert` that is not for the host of the endpoint the banner
/// gives (127.0.0.1) is named in the banner: every client that follows it refused the
/// certificate, each saying only that a name did not match, while the banner said
/// nothing.
#[test]
fn the_banner_warns_of_a_certificate_not_for_its_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let head_for = |names: &[&str], only_cn: bool| {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        if only_cn {
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, names[0]);
        } else {
            params = rcgen::CertificateParams::new(
                names.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
            )
            .unwrap();
        }
        let cert = dir.path().join("cert.pem");
        let key_file = dir.path().join("key.pem");
        std::fs::write(&cert, params.self_signed(&key).unwrap().pem()).unwrap();
        std::fs::write(&key_file, key.serialize_pem()).unwrap();
        banner_head(&[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key_file.to_str().unwrap(),
        ])
    };
    let head = head_for(&["kms.test"], false);
    assert!(
        head.contains("warning: the certificate is not valid for 127.0.0.1"),
        "{head}"
    );
    assert!(!head.contains("call https://localhost"), "{head}");
    let head = head_for(&["127.0.0.1"], true);
    assert!(head.contains("not valid for 127.0.0.1"), "{head}");
    assert!(head.contains("subject's CN"), "{head}");
    let head = head_for(&["localhost"], false);
    let port = head.lines().next().unwrap().rsplit_once(':').unwrap().1;
    assert!(
        head.contains(&format!("call https://localhost:{port}")),
        "{head}"
    );
    let head = head_for(&["127.0.0.1", "localhost"], false);
    assert!(
        head.starts_with("kms-server listening on https://127.0.0.1:"),
        "{head}"
    );
    assert!(!head.contains("warning"), "{head}");
}

/// A relative `--tls-ca-out` is given to clients as an absolute path: the banner's
/// `AWS_CA_BUNDLE=` and `verify=` lines are run from other directories than the server's.
#[test]
fn a_relative_ca_out_is_said_absolute() {
    let dir = tempfile::tempdir().unwrap();
    let head = banner_head_in(dir.path(), &["--tls-self-signed", "--tls-ca-out", "ca.pem"]);
    let absolute = dir.path().join("ca.pem");
    assert!(
        head.contains(&format!("its CA certificate is {}\n", absolute.display())),
        "{head}"
    );
    assert!(absolute.is_file());
}

/// A client that refuses the server's certificate (it does not trust the CA) is said in
/// the server's log at the default level, with the alert it sent and what to do; a
/// handshake that fails otherwise (plain HTTP on the TLS port, a scanner) stays at debug.
#[tokio::test]
async fn a_client_refusing_the_certificate_is_logged() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stderr.log");
    let mut child = common::Killed(
        common::kms_server_binary()
            .args(["--listen", "127.0.0.1:0", "--tls-self-signed"])
            .env_remove("RUST_LOG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let mut first = String::new();
    std::io::BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr: std::net::SocketAddr = first
        .trim()
        .rsplit_once("https://")
        .unwrap()
        .1
        .parse()
        .unwrap();
    // Plain HTTP on the TLS port: not a refusal of the certificate.
    let mut plain = TcpStream::connect(addr).await.unwrap();
    plain.write_all(UNSIGNED.as_bytes()).await.unwrap();
    let _ = plain.read_to_end(&mut Vec::new()).await;
    // A client trusting the CA of an earlier start (of the same name, another key):
    // rustls sends `DecryptError`.
    let other_ca = TlsConfig::self_signed(&["127.0.0.1".to_owned()]).unwrap();
    let connector = connector_trusting(other_ca.ca_pem().unwrap());
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    assert!(connector.connect(name, tcp).await.is_err());
    // Written within milliseconds (the log is written in batches); a hang guard only.
    let said = "the client refused the server's certificate";
    let mut text = String::new();
    for _ in 0..400 {
        text = std::fs::read_to_string(&log).unwrap();
        if text.contains(said) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let warned: Vec<&str> = text.lines().filter(|l| l.contains(said)).collect();
    assert_eq!(warned.len(), 1, "{text}");
    assert!(
        warned[0].contains("WARN") && warned[0].contains("alert=\"DecryptError\""),
        "{}",
        warned[0]
    );
    drop(child);
}
