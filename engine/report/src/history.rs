//! The job's history: previous runs' manifests, one per run date, read
//! from `<out>/manifests/run_date=*/_manifest.json`. A manifest that cannot
//! be read is skipped and named in the report, never fatal: the report is
//! about this run.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde_json::Value;

use crate::html::s;
use crate::time::is_run_date;

/// At most this many run dates (the latest) are read and charted.
pub const MAX_HISTORY_RUNS: usize = 90;
/// A manifest larger than this is skipped (they are a few kilobytes).
pub const MAX_MANIFEST_BYTES: u64 = 16 << 20;

/// Previous manifests under `out_dir`, and one line per one skipped.
pub(crate) fn read(out_dir: &Path) -> (Vec<Value>, Vec<String>) {
    let dir = out_dir.join("manifests");
    let mut skipped = Vec::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Vec::new(), skipped),
        Err(e) => {
            skipped.push(format!("{}: {e}", dir.display()));
            return (Vec::new(), skipped);
        }
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|n| n.strip_prefix("run_date=").is_some_and(is_run_date))
        .collect();
    names.sort();
    let keep = names.len().saturating_sub(MAX_HISTORY_RUNS);
    let mut out = Vec::new();
    for name in names.iter().skip(keep) {
        let path = dir.join(name).join("_manifest.json");
        match read_one(&path) {
            Ok(Some(v)) => out.push(v),
            Ok(None) => {}
            Err(why) => skipped.push(format!("{}: {why}", path.display())),
        }
    }
    (out, skipped)
}

/// One manifest; `Ok(None)` when the folder has none (a run that stopped
/// before publishing).
fn read_one(path: &Path) -> Result<Option<Value>, String> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let mut bytes = Vec::new();
    f.take(MAX_MANIFEST_BYTES + 1).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_MANIFEST_BYTES {
        return Err(format!("larger than {MAX_MANIFEST_BYTES} bytes"));
    }
    serde_json::from_slice(&bytes).map(Some).map_err(|e| format!("not a manifest: {e}"))
}

/// One manifest per run date, oldest first, the latest
/// [`MAX_HISTORY_RUNS`]. `current` wins over any history entry of its run
/// date; between history entries of one date, the later `finished_at`
/// (then the later position) wins. Entries without a run date are dropped.
pub(crate) fn dedupe<'a>(current: &'a Value, history: &'a [Value]) -> Vec<&'a Value> {
    let mut by_date: BTreeMap<&str, &Value> = BTreeMap::new();
    for m in history {
        let Some(date) = s(m, "run_date") else { continue };
        match by_date.get(date) {
            Some(prev) if s(prev, "finished_at") > s(m, "finished_at") => {}
            _ => {
                by_date.insert(date, m);
            }
        }
    }
    if let Some(date) = s(current, "run_date") {
        by_date.insert(date, current);
    }
    let keep = by_date.len().saturating_sub(MAX_HISTORY_RUNS);
    by_date.into_values().skip(keep).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use serde_json::json;

    #[test]
    fn dedupes_by_run_date_current_wins() {
        let current = json!({"run_date": "2026-11-26", "run_id": "current", "finished_at": "2026-11-26T00:00:00Z"});
        let history = vec![
            json!({"run_date": "2026-11-26", "run_id": "old-same-day", "finished_at": "2026-11-27T00:00:00Z"}),
            json!({"run_date": "2026-11-27", "run_id": "b-late", "finished_at": "2026-11-27T09:00:00Z"}),
            json!({"run_date": "2026-11-24", "run_id": "a"}),
            json!({"run_date": "2026-11-27", "run_id": "b-early", "finished_at": "2026-11-27T01:00:00Z"}),
            json!({"run_id": "no-date"}),
            json!(42),
        ];
        let runs = dedupe(&current, &history);
        let ids: Vec<&str> = runs.iter().map(|m| s(m, "run_id").unwrap()).collect();
        assert_eq!(ids, ["a", "current", "b-late"]);
    }

    #[test]
    fn keeps_the_latest_runs() {
        let current = json!({"run_date": "2030-01-01"});
        let history: Vec<Value> =
            (0..200).map(|i| json!({"run_date": format!("2029-{:02}-{:02}", i / 28 + 1, i % 28 + 1)})).collect();
        let runs = dedupe(&current, &history);
        assert_eq!(runs.len(), MAX_HISTORY_RUNS);
        assert_eq!(s(runs.last().unwrap(), "run_date"), Some("2030-01-01"));
    }

    #[test]
    fn reads_and_skips() {
        let d = std::env::temp_dir().join(format!("crlbatch-report-hist-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        assert_eq!(read(&d), (vec![], vec![]));
        let m = d.join("manifests");
        for (date, body) in [("2026-11-24", "{\"run_date\":\"2026-11-24\"}"), ("2026-11-25", "{broken")] {
            std::fs::create_dir_all(m.join(format!("run_date={date}"))).unwrap();
            std::fs::write(m.join(format!("run_date={date}")).join("_manifest.json"), body).unwrap();
        }
        std::fs::create_dir_all(m.join("run_date=2026-11-26")).unwrap();
        std::fs::create_dir_all(m.join("other")).unwrap();
        let (runs, skipped) = read(&d);
        assert_eq!(runs, vec![json!({"run_date": "2026-11-24"})]);
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        assert!(skipped[0].contains("run_date=2026-11-25") && skipped[0].contains("not a manifest"), "{skipped:?}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
