//! Window width, scripts in the page, and full-page screenshots.

use std::fs;

use serde_json::Value;

use super::{Chrome, HEIGHT, MAX_SHOT_HEIGHT};

impl Chrome {
    /// Resizes the window to `width` px (shots keep it), e.g. 390 for a phone.
    pub async fn set_width(&self, width: u32) {
        self.width
            .store(width, std::sync::atomic::Ordering::Relaxed);
        self.client
            .set_window_size(width, HEIGHT)
            .await
            .expect("window size");
    }

    /// Runs a script in the page and returns its value.
    pub async fn run(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Saves a full-page PNG as `target/screenshots/{name}.png`: the window grows to the page's
    /// height for the shot (plus what the browser's frame takes), from the top.
    pub async fn screenshot(&self, name: &str) {
        let sizes = self
            .client
            .execute(
                "window.scrollTo(0, 0); \
                 return [document.documentElement.scrollHeight, \
                         window.outerHeight - window.innerHeight];",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| serde_json::from_value::<(u32, u32)>(v).ok());
        let height = sizes.map_or(HEIGHT, |(page, frame)| {
            (page + frame).clamp(HEIGHT, MAX_SHOT_HEIGHT)
        });
        let width = self.width.load(std::sync::atomic::Ordering::Relaxed);
        let _ = self.client.set_window_size(width, height).await;
        // Let the resized layout paint: two animation frames, no fixed sleep.
        let _ = self
            .client
            .execute_async(
                "const done = arguments[0]; \
                 requestAnimationFrame(() => requestAnimationFrame(() => done()));",
                vec![],
            )
            .await;
        let shot = self.client.screenshot().await;
        let _ = self.client.set_window_size(width, HEIGHT).await;
        match shot {
            Ok(png) => {
                let path = self.shots.join(format!("{name}.png"));
                fs::write(&path, png).expect("write screenshot");
            }
            Err(e) => eprintln!("screenshot {name} failed: {e}"),
        }
    }
}
