//! The `kms-server` binary as scripts run it.

mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Call, send};

/// `kms-server | head -1`: the reader of the banner goes away while it is written, and
/// the server keeps serving (it used to die of the broken pipe, exit status 101).
#[tokio::test]
async fn a_banner_reader_that_goes_away_leaves_it_serving() {
    // A free port, so that the endpoint is known without reading the banner.
    let addr: SocketAddr = {
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_kms-server"))
        .args(["--listen", &addr.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kms-server starts");
    // Nobody reads the banner: its first write meets a closed pipe.
    drop(child.stdout.take());

    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(addr).is_err() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "kms-server exited before listening"
        );
        assert!(Instant::now() < deadline, "kms-server never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Past the banner: it still answers, and has not exited.
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        child.try_wait().unwrap().is_none(),
        "kms-server exited after its banner could not be written"
    );
    let answer = send(addr, Call::new("{}")).await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "kms-server stopped with {exit}");
}

/// `--tls-self-signed` writes its CA certificate into a new directory of its own,
/// readable by its owner alone, and removes it on exit: nobody else on the machine can
/// plant a file or symlink where the banner tells clients to find the CA they trust
/// (it used to write to a predictable name in the temporary directory).
#[cfg(unix)]
#[test]
fn the_self_signed_ca_goes_to_a_private_directory_of_its_own() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::fs::PermissionsExt;

    let mut child = Command::new(env!("CARGO_BIN_EXE_kms-server"))
        .args(["--listen", "127.0.0.1:0", "--tls-self-signed"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kms-server starts");
    let path = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            line.split_once("its CA certificate is ")
                .map(|(_, path)| std::path::PathBuf::from(path.trim()))
        })
        .expect("the banner names the CA certificate");
    let dir = path.parent().unwrap().to_owned();
    assert!(dir.starts_with(std::env::temp_dir()), "{}", dir.display());
    let meta = std::fs::symlink_metadata(&dir).unwrap();
    assert!(meta.is_dir());
    assert_eq!(meta.permissions().mode() & 0o777, 0o700);
    let pem = std::fs::read_to_string(&path).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
    assert!(!dir.exists(), "{} was left behind", dir.display());
}
