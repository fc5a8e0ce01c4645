//! SQLite on a full disk: a real 4 MiB tmpfs, filled up and then freed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::spawn_app_with;
use crate::receiver::Receiver;

use super::{assert_delivered, import_forwarder, post};

/// A small tmpfs mounted on a temp dir, unmounted on drop. Mounting needs root (CI runs as
/// root); elsewhere `mount` returns `None` after printing why the test is skipped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let options = format!("size={size}");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &options, "tmpfs"])
            .arg(dir.path())
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(Tmpfs { dir }),
            Ok(out) => {
                println!(
                    "skipped: cannot mount a tmpfs (needs root): {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                None
            }
            Err(e) => {
                println!("skipped: cannot run mount: {e}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Writes zeros to `path` until the filesystem is full.
fn fill(path: &Path) -> PathBuf {
    let filler = path.join("filler");
    let mut file = std::fs::File::create(&filler).unwrap();
    let chunk = vec![0u8; 16 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.sync_all();
    filler
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_503_and_the_store_recovers_when_space_returns() {
    let Some(disk) = Tmpfs::mount("4m") else {
        return;
    };
    let data = disk.path().to_owned();
    let app = spawn_app_with(|s| s.data_dir = data).await;
    let receiver = Receiver::start().await;
    let recipe = import_forwarder(&app, &receiver).await;
    let (status, before) = post(&app, &recipe, 0, 10).await;
    assert_eq!(status, 202);
    assert_delivered(&app, &before.unwrap()).await;

    let filler = fill(disk.path());
    let mut refused = false;
    for n in 1..=400 {
        let (status, _) = post(&app, &recipe, n, 16 * 1024).await;
        assert!(
            matches!(status, 202 | 503),
            "a full disk gives 202 or 503, not {status}"
        );
        if status == 503 {
            refused = true;
            break;
        }
    }
    assert!(refused, "a full disk never refused a webhook");

    std::fs::remove_file(filler).unwrap();
    // Space is back: the very next webhook is accepted, and the workers run it.
    let (status, after) = post(&app, &recipe, 1000, 10).await;
    assert_eq!(status, 202, "the store is usable again without a restart");
    assert_delivered(&app, &after.unwrap()).await;
    let (status, again) = post(&app, &recipe, 1001, 10).await;
    assert_eq!(status, 202);
    assert_delivered(&app, &again.unwrap()).await;
}
