//! Headless Chromium over WebDriver: starts `chromedriver` on a free port, opens one session with
//! a fresh profile, and offers the few waiting helpers the browser tests need. Everything waits
//! for a state with a deadline; nothing sleeps a fixed time.

use std::fs;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::TempDir;

mod shots;

/// How long any one state may take to appear: generous, the machine has two busy cores.
pub const DEADLINE: Duration = Duration::from_secs(45);
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 900;
/// Full-page screenshots stop here.
const MAX_SHOT_HEIGHT: u32 = 5000;

/// A running `chromedriver`, in its own process group with the browsers it starts; the whole
/// group is killed on drop, also when a test panics.
struct Driver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start(binary: &Path, dir: &Path) -> Driver {
        let log = dir.join("chromedriver.log");
        let mut last_error = String::new();
        // A free port can be taken between asking and binding: try a few.
        for _ in 0..5 {
            let port = free_port();
            let child = Command::new(binary)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
            let mut driver = Driver {
                child,
                port,
                log: log.clone(),
            };
            match driver.wait_ready().await {
                Ok(()) => return driver,
                Err(e) => last_error = e,
            }
        }
        panic!("chromedriver did not start: {last_error}");
    }

    /// Polls `/status` until the driver says it is ready, or its process ends.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let http = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{}/status", self.port);
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited with {status}; {}", self.log_tail()));
            }
            if let Ok(response) = http.get(&url).send().await
                && let Ok(body) = response.json::<Value>().await
                && body["value"]["ready"] == true
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("not ready after {DEADLINE:?}; {}", self.log_tail()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log_tail(&self) -> String {
        let log = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        format!(
            "chromedriver log tail:\n{}",
            lines[lines.len().saturating_sub(30)..].join("\n")
        )
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The first of `names` found on `PATH`, after the environment variable `env` if set.
fn find_program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// One headless Chromium session against the app at `base`.
pub struct Chrome {
    client: Client,
    base: String,
    shots: PathBuf,
    /// The window's width (px): 1280, or a phone's while a test looks at that.
    width: std::sync::atomic::AtomicU32,
    // Dropped after the client: the driver, then the profile folder.
    _driver: Driver,
    _profile: TempDir,
}

impl Chrome {
    /// Starts chromedriver and Chromium; `None` (after saying so) when they are not installed.
    /// On CI (`CI` set) a missing browser is an error: there it must really run.
    pub async fn start(base: &str) -> Option<Chrome> {
        let driver_binary = find_program("CHROMEDRIVER", &["chromedriver"]);
        let chrome_binary = find_program(
            "CHROME",
            &["chromium", "chromium-browser", "google-chrome", "chrome"],
        );
        let (Some(driver_binary), Some(chrome_binary)) = (&driver_binary, &chrome_binary) else {
            let missing = if driver_binary.is_none() {
                "chromedriver"
            } else {
                "chromium"
            };
            let message =
                format!("skipped: {missing} not found (apt-get install chromium chromium-driver)");
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must run the browser tests; {message}"
            );
            eprintln!("{message}");
            return None;
        };
        let profile = tempfile::tempdir().expect("profile dir");
        let driver = Driver::start(driver_binary, profile.path()).await;
        let capabilities = json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": { "pageLoad": 60_000, "script": 30_000, "implicit": 0 },
            "goog:chromeOptions": {
                "binary": chrome_binary,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--no-default-browser-check",
                    format!("--user-data-dir={}", profile.path().join("chrome").display()),
                    format!("--window-size={WIDTH},{HEIGHT}"),
                ],
                "prefs": {
                    "credentials_enable_service": false,
                    "profile.password_manager_enabled": false,
                    "profile.password_manager_leak_detection": false,
                },
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let connect = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await;
        let client = match connect {
            Ok(client) => client,
            Err(e) => panic!("Chromium did not start: {e}\n{}", driver.log_tail()),
        };
        client
            .set_window_size(WIDTH, HEIGHT)
            .await
            .expect("window size");
        let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        fs::create_dir_all(&shots).expect("target/screenshots");
        Some(Chrome {
            client,
            base: base.trim_end_matches('/').to_owned(),
            shots,
            width: std::sync::atomic::AtomicU32::new(WIDTH),
            _driver: driver,
            _profile: profile,
        })
    }

    /// Ends the session (Chromium quits); the driver goes on drop.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    /// Opens a path of the app, or a full URL.
    pub async fn goto(&self, path: &str) {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// The current path and query, as the app sees them.
    pub async fn location(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Polls `probe` until it gives a value; panics after the deadline with `what` and the page,
    /// leaving a `failed-….png` screenshot behind.
    pub async fn eventually<T>(&self, what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(value) = probe().await {
                return value;
            }
            if Instant::now() > deadline {
                let name = format!("failed-{}", slug(what));
                self.screenshot(&name).await;
                let location = self.location().await;
                let text = self.body_text().await;
                panic!(
                    "the browser never showed {what} within {DEADLINE:?}\nat {location}; \
                     screenshot target/screenshots/{name}.png\n--- page text ---\n{text}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the path and query match `wanted`.
    pub async fn wait_for_location(&self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        self.eventually(what, async || {
            let url = self.client.current_url().await.ok()?;
            let location = match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_owned(),
            };
            wanted(&location).then_some(location)
        })
        .await
    }

    /// The element matching `css`, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        self.eventually(&format!("an element `{css}`"), async || {
            self.client.find(Locator::Css(css)).await.ok()
        })
        .await
    }

    /// Every element matching `css` now (none is fine).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_default()
    }

    /// The visible texts of every element matching `css` now; empty while the page reloads.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.find_all(css).await {
            match element.text().await {
                Ok(text) => texts.push(text),
                Err(_) => return Vec::new(),
            }
        }
        texts
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("element text")
    }

    /// The `value` of a form field.
    pub async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .expect("value property")
            .unwrap_or_default()
    }

    /// Replaces what a text field holds by typing `text` into it, as a person would.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear the field");
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("cannot type into `{css}`: {e}"));
        let typed = field.prop("value").await.ok().flatten().unwrap_or_default();
        assert_eq!(typed, text, "`{css}` holds what was typed");
    }

    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        // Centred first: a sticky bar (the editor's save bar) may cover the window's edges.
        let reference = serde_json::to_value(&element).expect("element reference");
        let _ = self
            .client
            .execute(
                "arguments[0].scrollIntoView({ block: 'center' });",
                vec![reference],
            )
            .await;
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click `{css}`: {e}"));
    }

    /// Clicks a button whose form asks `window.confirm` first, and answers OK.
    pub async fn click_and_confirm(&self, css: &str) {
        self.click(css).await;
        self.client
            .accept_alert()
            .await
            .unwrap_or_else(|e| panic!("`{css}` asked no confirmation: {e}"));
    }

    /// `document.body.innerText`, or empty while the page is between documents.
    pub async fn body_text(&self) -> String {
        self.client
            .execute(
                "return document.body ? document.body.innerText : '';",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

fn slug(text: &str) -> String {
    let slug: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    slug.split('-')
        .filter(|s| !s.is_empty())
        .take(8)
        .collect::<Vec<_>>()
        .join("-")
}
