//! Criterion micro-benchmarks live in `benches/micro.rs`; this library is empty.
