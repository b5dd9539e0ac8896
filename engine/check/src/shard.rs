//! Shares of the input for scale-out: shard `I` of `N` checks a contiguous
//! run of row groups holding about a `1/N` share of the rows. Every shard
//! computes the same split from the files' metadata, so the shares cover the
//! input exactly once with no coordination.

use std::fmt;
use std::str::FromStr;

/// Most shards of one run.
pub const MAX_SHARDS: u32 = 10_000;

/// Shard `index` of `count` (0-based, `index < count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    pub fn new(index: u32, count: u32) -> Result<Shard, String> {
        if count == 0 || count > MAX_SHARDS {
            return Err(format!("shard count {count}: use 1 to {MAX_SHARDS}"));
        }
        if index >= count {
            return Err(format!("shard index {index} is not below the shard count {count} (indexes start at 0)"));
        }
        Ok(Shard { index, count })
    }

    /// Which of `units` (row counts, in input order) belong to this shard:
    /// the units whose first row falls in `[index, index + 1) · total / count`.
    pub fn select(&self, rows: &[u64]) -> Vec<usize> {
        let total: u128 = rows.iter().map(|&r| u128::from(r)).sum();
        let (i, n) = (u128::from(self.index), u128::from(self.count));
        let mut start: u128 = 0;
        let mut out = Vec::new();
        for (u, &r) in rows.iter().enumerate() {
            // The unit's first row, scaled: shard = floor(start · n / total).
            let owner = (start * n).checked_div(total).unwrap_or_else(|| u128::try_from(u).unwrap_or(0) % n);
            if owner == i {
                out.push(u);
            }
            start += u128::from(r);
        }
        out
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `I/N`, e.g. `0/4`.
    fn from_str(s: &str) -> Result<Shard, String> {
        let (i, n) = s.split_once('/').ok_or_else(|| format!("shard {s:?}: use I/N, e.g. 0/4"))?;
        let i: u32 = i.trim().parse().map_err(|_| format!("shard {s:?}: index is not a number"))?;
        let n: u32 = n.trim().parse().map_err(|_| format!("shard {s:?}: count is not a number"))?;
        Shard::new(i, n)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn shares_cover_every_unit_once() {
        let rows = [100, 5, 0, 300, 7, 7, 7, 1000, 1, 64];
        for n in 1..=12 {
            let mut seen = vec![0u32; rows.len()];
            for i in 0..n {
                for u in Shard::new(i, n).unwrap().select(&rows) {
                    seen[u] += 1;
                }
            }
            assert!(seen.iter().all(|&c| c == 1), "n={n}: {seen:?}");
        }
    }

    #[test]
    fn shares_are_balanced_and_contiguous() {
        let rows = vec![10u64; 40];
        let parts: Vec<Vec<usize>> = (0..4).map(|i| Shard::new(i, 4).unwrap().select(&rows)).collect();
        assert_eq!(parts[0], (0..10).collect::<Vec<_>>());
        assert_eq!(parts[3], (30..40).collect::<Vec<_>>());
    }

    #[test]
    fn empty_input_spreads_units() {
        assert_eq!(Shard::new(1, 2).unwrap().select(&[0, 0, 0]), vec![1]);
    }

    #[test]
    fn parse_errors_are_exact() {
        assert_eq!("2/4".parse::<Shard>().unwrap(), Shard { index: 2, count: 4 });
        assert_eq!(
            "4/4".parse::<Shard>().unwrap_err(),
            "shard index 4 is not below the shard count 4 (indexes start at 0)"
        );
        assert_eq!("x".parse::<Shard>().unwrap_err(), "shard \"x\": use I/N, e.g. 0/4");
        assert_eq!("1/0".parse::<Shard>().unwrap_err(), "shard count 0: use 1 to 10000");
    }
}
