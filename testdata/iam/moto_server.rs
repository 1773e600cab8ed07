// A moto server (PyPI `moto[server]`) on a free 127.0.0.1 port, started for one test binary and
// killed when dropped. Included with `#[path]` by the kquota-iam and kquota-cli tests.
// MOTO_ACCOUNT_ID=111111111111 gives MSK-style ARNs.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct MotoServer {
    child: Child,
    pub url: String,
}

impl MotoServer {
    pub fn start() -> MotoServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_ACCOUNT_ID", "111111111111")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server must be installed (pip install 'moto[server]')");
        let mut server = MotoServer {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("moto_server exited early: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
