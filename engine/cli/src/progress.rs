//! Progress bars (indicatif) for a run, drawn from the engine's counters
//! (`crlbatch_job::Progress`) by a ticker thread; only on an interactive
//! terminal (see `logging`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crlbatch_job::{Progress, Step};

/// How often the bars are redrawn.
const TICK: Duration = Duration::from_millis(100);

/// Draws until dropped.
#[derive(Debug)]
pub struct Bars {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

impl Bars {
    /// Start drawing `progress` into `mp`.
    pub fn start(mp: MultiProgress, progress: Arc<Progress>) -> Bars {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::Builder::new().name("progress".into()).spawn(move || draw(&mp, &progress, &s)).ok();
        Bars { stop, thread }
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn draw(mp: &MultiProgress, p: &Progress, stop: &AtomicBool) {
    let crls = mp.add(ProgressBar::new(0));
    crls.set_style(style("{prefix:>8} [{bar:30.cyan/blue}] {pos}/{len} CAs {msg} {elapsed}"));
    crls.set_prefix("CRLs");
    // Remote sources (HTTP, LDAP partitions): a bar of their own, with rate
    // and ETA, once there are any.
    let mut fetch: Option<ProgressBar> = None;
    let rows = mp.add(ProgressBar::new(0));
    rows.set_style(style(
        "{prefix:>8} [{bar:30.green/blue}] {human_pos}/{human_len} records {per_sec} ETA {eta} {msg}",
    ));
    rows.set_prefix("check");
    loop {
        let done = stop.load(Ordering::Relaxed);
        let cas_total = p.cas_total.load(Ordering::Relaxed);
        crls.set_length(cas_total);
        crls.set_position(p.cas_done.load(Ordering::Relaxed));
        let sources = p.sources_total.load(Ordering::Relaxed);
        if sources > 0 {
            let bar = fetch.get_or_insert_with(|| {
                let b = mp.insert_before(&crls, ProgressBar::new(sources));
                b.set_style(style("{prefix:>8} [{bar:30.yellow/blue}] {pos}/{len} sources {per_sec} ETA {eta}"));
                b.set_prefix("fetch");
                b
            });
            bar.set_length(sources);
            bar.set_position(p.sources_done.load(Ordering::Relaxed));
        }
        rows.set_length(p.rows_total.load(Ordering::Relaxed));
        rows.set_position(p.rows_done.load(Ordering::Relaxed));
        if p.step() >= Step::Check && !crls.is_finished() {
            crls.finish();
        }
        if p.step() == Step::Publish {
            rows.set_message("publishing");
        }
        if done {
            break;
        }
        std::thread::sleep(TICK);
    }
    if let Some(b) = &fetch {
        b.finish();
    }
    if p.step() == Step::Done {
        crls.finish();
        rows.finish_with_message("done");
    } else {
        crls.abandon();
        rows.abandon();
    }
}
