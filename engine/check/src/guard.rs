//! A fence around the Parquet decoder. Malformed Parquet must give an error,
//! never a crash, but the `parquet`/`arrow` crates can panic on some corrupt
//! pages (found by fuzzing: a definition-level run past its buffer, "offset
//! plus len out of bounds" in arrow-buffer). Decoding runs inside [`decode`],
//! which turns such a panic into an error message; the binary's panic hook
//! stays silent for it ([`decoding`]) so that the user sees only the one-line
//! error naming the file and row group.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Longest decoder message kept in an error.
const MAX_MESSAGE_CHARS: usize = 200;

thread_local! {
    static DECODING: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is inside [`decode`] (for panic hooks).
pub fn decoding() -> bool {
    DECODING.with(Cell::get)
}

/// Run `f` (Parquet decoding); a panic inside becomes `Err(message)`.
pub fn decode<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let was = DECODING.with(|d| d.replace(true));
    let r = catch_unwind(AssertUnwindSafe(f));
    DECODING.with(|d| d.set(was));
    r.map_err(|p| {
        let what = p
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".to_owned());
        // One line, bounded: the message comes from a library.
        let what: String = what.chars().map(|c| if c.is_control() { ' ' } else { c }).take(MAX_MESSAGE_CHARS).collect();
        format!("malformed Parquet data (the decoder failed: {what})")
    })
}

#[cfg(test)]
mod tests {
    use super::{decode, decoding};

    #[test]
    fn a_panic_in_the_decoder_becomes_an_error() {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r: Result<(), String> = decode(|| panic!("offset + len out of bounds"));
        std::panic::set_hook(prev);
        assert_eq!(r, Err("malformed Parquet data (the decoder failed: offset + len out of bounds)".to_owned()));
        assert!(!decoding());
        assert_eq!(decode(|| 7), Ok(7));
    }
}
