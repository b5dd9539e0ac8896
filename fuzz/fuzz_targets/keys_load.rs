//! The previous-run keys file on arbitrary bytes: a corrupt, truncated or
//! hostile `flagged.keys` (version 1 or 2) is refused with an error; one
//! that opens answers lookups, swept and single alike.
#![no_main]

use crlbatch_check::KeyFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("crlbatch-fuzz-keys-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("flagged.keys");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(file) = KeyFile::open(&path) {
        let view = file.view();
        let mut probes: Vec<u64> = data.chunks(8).map(|c| c.iter().fold(0u64, |a, &b| a << 8 | u64::from(b))).collect();
        probes.extend(view.keys().iter().take(64).copied());
        probes.extend([0, 1, u64::MAX]);
        let mut tagged: Vec<(u64, u32)> = probes.iter().zip(0u32..).map(|(&k, i)| (k, i)).collect();
        let mut each = vec![None; probes.len()];
        view.sweep(&mut tagged, |i, hit| {
            let slot = each.get_mut(i as usize).expect("a tag given");
            assert!(slot.replace(hit).is_none(), "a tag reported twice");
        });
        for (k, hit) in probes.iter().zip(&each) {
            assert_eq!(Some(view.contains(*k)), *hit);
        }
        for k in view.keys().iter().take(64) {
            assert!(view.contains(*k));
        }
    }
});
