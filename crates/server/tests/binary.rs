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
