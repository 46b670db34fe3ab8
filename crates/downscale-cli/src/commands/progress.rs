//! Terminal progress for `downscale run`: one bar for the run's tasks and one for the tiles of each running task,
//! drawn on stderr only when it is a terminal (indicatif draws nothing otherwise), so logs and pipes stay clean.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use downscale_engine::{Progress, TaskEnd};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub(crate) struct TerminalProgress {
    bars: MultiProgress,
    tasks: Mutex<Option<ProgressBar>>,
    /// The tile bars of the tasks running now, by task id.
    tiles: Mutex<HashMap<String, ProgressBar>>,
}

impl TerminalProgress {
    pub(crate) fn new(hidden: bool) -> TerminalProgress {
        let target = if hidden { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
        TerminalProgress {
            bars: MultiProgress::with_draw_target(target),
            tasks: Mutex::new(None),
            tiles: Mutex::new(HashMap::new()),
        }
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

impl Progress for TerminalProgress {
    fn run_started(&self, run_id: &str, tasks: usize) {
        let bar = self.bars.add(ProgressBar::new(tasks as u64));
        bar.set_style(style("{prefix} [{bar:30}] {pos}/{len} tasks {elapsed} {msg}"));
        bar.set_prefix(run_id.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        *self.tasks.lock().expect("progress lock") = Some(bar);
    }

    fn task_started(&self, task: &str) {
        if let Some(bar) = self.tasks.lock().expect("progress lock").as_ref() {
            bar.set_message(task.to_string());
        }
    }

    fn task_finished(&self, task: &str, end: TaskEnd) {
        if let Some(tiles) = self.tiles.lock().expect("progress lock").remove(task) {
            tiles.finish_and_clear();
        }
        if let Some(bar) = self.tasks.lock().expect("progress lock").as_ref() {
            if end == TaskEnd::Failed {
                bar.set_message(format!("{task} failed"));
            }
            bar.inc(1);
        }
    }

    fn tiles_started(&self, task: &str, total: u64) {
        let bar = self.bars.add(ProgressBar::new(total));
        bar.set_style(style("  {prefix} [{bar:30}] {pos}/{len} tiles {per_sec}"));
        bar.set_prefix(task.to_string());
        if let Some(previous) = self.tiles.lock().expect("progress lock").insert(task.to_string(), bar) {
            previous.finish_and_clear();
        }
    }

    fn tile_done(&self, task: &str) {
        if let Some(bar) = self.tiles.lock().expect("progress lock").get(task) {
            bar.inc(1);
        }
    }

    fn run_finished(&self, _succeeded: bool) {
        if let Some(bar) = self.tasks.lock().expect("progress lock").take() {
            bar.finish_and_clear();
        }
    }
}
