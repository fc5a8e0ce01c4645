//! The real `switchyard` binary: one-shot CLI commands with captured output, and `serve` as a
//! child process on a free port (killed when dropped, so a failing test leaves nothing running).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use switchyard::store::SyncMode;
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_switchyard");
/// Generous: the machine is small and shared.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);
pub const CLI_TIMEOUT: Duration = Duration::from_secs(60);

/// Reads a pipe to its end on a thread (so a chatty child never blocks on a full pipe).
fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// What one CLI invocation left behind.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Asserts exit 0 and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "command failed: {self:#?}");
        &self.stdout
    }

    /// Asserts exit 1 and returns stderr.
    #[track_caller]
    pub fn fails(&self) -> &str {
        assert_eq!(self.code, Some(1), "command should exit 1: {self:#?}");
        &self.stderr
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }
}

/// Runs the binary against one data directory, with a clean `SWITCHYARD_*` environment.
#[derive(Clone)]
pub struct Cli {
    pub data_dir: PathBuf,
    env: Vec<(String, String)>,
    _dir: Arc<TempDir>,
}

impl Cli {
    /// A data directory holding an empty store and its key file, as `serve` leaves them on its
    /// first start (the other commands refuse to create either).
    pub fn new() -> Cli {
        let cli = Cli::without_store();
        create_store(&cli.data_dir);
        cli
    }

    /// A data directory that does not exist yet.
    pub fn without_store() -> Cli {
        let dir = tempfile::tempdir().expect("temp dir");
        Cli {
            data_dir: dir.path().join("data"),
            env: Vec::new(),
            _dir: Arc::new(dir),
        }
    }

    /// A scratch folder next to the data directory (for recipe and payload files).
    pub fn scratch(&self) -> &Path {
        self._dir.path()
    }

    /// Writes a file into the scratch folder and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.scratch().join(name);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write file");
        path
    }

    /// The same data directory with one more environment variable.
    pub fn with_env(&self, name: &str, value: &str) -> Cli {
        let mut cli = self.clone();
        cli.env.push((name.to_owned(), value.to_owned()));
        cli
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        for (name, _) in std::env::vars() {
            if name.starts_with("SWITCHYARD_") || name == "DATABASE_URL" {
                command.env_remove(name);
            }
        }
        command
            .env("SWITCHYARD_DATA_DIR", &self.data_dir)
            .env("NO_COLOR", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    pub fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Output {
        self.run_with_stdin(args, "")
    }

    /// Runs one command with `stdin` to completion (see [`run_command`]).
    pub fn run_with_stdin<S: AsRef<std::ffi::OsStr>>(&self, args: &[S], stdin: &str) -> Output {
        run_command(self.command(), args, stdin)
    }

    /// `import FILE` and the printed `(id, kind, webhook_url)` of each recipe.
    #[track_caller]
    pub fn import(&self, file: &Path) -> Vec<(String, String, String)> {
        let out = self.run(&[Path::new("import"), file]);
        out.ok()
            .lines()
            .map(|line| {
                let fields: Vec<&str> = line.split('\t').collect();
                assert_eq!(fields.len(), 3, "import prints id, kind, url: {line:?}");
                (fields[0].into(), fields[1].into(), fields[2].into())
            })
            .collect()
    }
}

/// Runs one command to completion; a command still running after `CLI_TIMEOUT` is killed
/// and fails the test (a CLI call must never hang the suite).
pub fn run_command<S: AsRef<std::ffi::OsStr>>(
    mut command: Command,
    args: &[S],
    stdin: &str,
) -> Output {
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("switchyard binary starts");
    let mut input = child.stdin.take().expect("stdin piped");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    let stdout = drain(child.stdout.take().expect("stdout piped"));
    let stderr = drain(child.stderr.take().expect("stderr piped"));
    let deadline = Instant::now() + CLI_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`switchyard` still running after {CLI_TIMEOUT:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        code: status.code(),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

/// Creates the store and key file in `data_dir` through the library, on a thread of its own
/// (callers may be inside a runtime already).
fn create_store(data_dir: &Path) {
    let data_dir = data_dir.to_owned();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime
            .block_on(switchyard::store::open(None, &data_dir, SyncMode::Normal))
            .expect("store created");
    })
    .join()
    .expect("store thread");
}

/// An HTTP client for talking to a served binary (reqwest needs the rustls provider installed).
pub fn http() -> reqwest::Client {
    switchyard::telemetry::install_crypto_provider();
    reqwest::Client::new()
}

/// `switchyard serve` as a child process.
pub struct Server {
    child: Child,
    /// `127.0.0.1:PORT`
    pub bind: String,
    /// `http://127.0.0.1:PORT`
    pub address: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `serve` on a free port with `extra` arguments and waits for `/healthz`.
    pub async fn start(cli: &Cli, extra: &[&str]) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let bind = format!("127.0.0.1:{port}");
        let mut child = cli
            .command()
            .arg("serve")
            .args(extra)
            .env("SWITCHYARD_BIND", &bind)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("switchyard serve starts");
        // Drain the log so the server never blocks on a full pipe; keep it for failure messages.
        let log = Arc::new(Mutex::new(String::new()));
        let mut stderr = child.stderr.take().expect("stderr piped");
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stderr.read(&mut buf) {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut server = Server {
            child,
            address: format!("http://{bind}"),
            bind,
            log,
        };
        server.wait_healthy().await;
        server
    }

    async fn wait_healthy(&mut self) {
        let http = http();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!(
                    "serve exited with {status} before it was healthy:\n{}",
                    self.log()
                );
            }
            let health = http.get(format!("{}/healthz", self.address)).send().await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "serve never became healthy:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn hook_url(&self, token_url: &str) -> String {
        let token = token_url.rsplit('/').next().expect("url has a token");
        format!("{}/hooks/{token}", self.address)
    }

    /// Sends SIGTERM (graceful shutdown).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM failed");
    }

    /// SIGKILL: no shutdown code runs at all.
    pub fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    /// Waits (polling) for the process to exit; panics with the log after `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "serve still running {timeout:?} after the signal:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
