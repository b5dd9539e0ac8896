//! Logs: `tracing` events on stderr, one line each. Text on a terminal
//! (`crlbatch: [warning: ]message key=value ...`), JSON lines otherwise or
//! with `--log-format json`; `RUST_LOG` filters (default `info`). Events
//! carry counts, paths, URLs and key identifiers only: never a PPID, a local
//! user id or basic four information (the engine logs nothing from records).
//! While progress bars are drawn, each line is printed above them.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};

use indicatif::MultiProgress;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

use crate::args::{LogFormat, ProgressArg};

/// The filter when `RUST_LOG` is not set.
const DEFAULT_FILTER: &str = "info";

/// How this process logs.
#[derive(Debug, Clone)]
pub struct Logging {
    pub json: bool,
    /// Progress bars are drawn into this (an interactive terminal only).
    pub bars: Option<MultiProgress>,
}

impl Logging {
    /// Install the global subscriber.
    pub fn init(format: LogFormat, progress: ProgressArg) -> Logging {
        let tty = std::io::stderr().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb");
        let json = match format {
            LogFormat::Json => true,
            LogFormat::Text => false,
            LogFormat::Auto => !tty,
        };
        let bars = (tty && !json && progress == ProgressArg::Auto).then(MultiProgress::new);
        let (filter, bad_filter) = match std::env::var("RUST_LOG") {
            Err(_) => (EnvFilter::new(DEFAULT_FILTER), None),
            Ok(s) => match EnvFilter::try_new(&s) {
                Ok(f) => (f, None),
                Err(e) => (EnvFilter::new(DEFAULT_FILTER), Some(e.to_string())),
            },
        };
        let writer = Stderr { bars: bars.clone() };
        let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
        let installed = if json {
            builder.json().flatten_event(true).with_current_span(false).with_span_list(false).try_init()
        } else {
            builder.event_format(TextFormat).try_init()
        };
        if installed.is_err() {
            eprintln!("crlbatch: warning: logging was already set up");
        }
        if let Some(e) = bad_filter {
            tracing::warn!(error = e.as_str(), "RUST_LOG is not a valid filter; using the default (info)");
        }
        Logging { json, bars }
    }

    /// The final error of the command: one line (text), or one JSON event.
    pub fn error(&self, code: u8, message: &str) {
        let one_line = message.replace('\n', " ");
        if self.json {
            // Written directly, not as an event: RUST_LOG must not be able
            // to filter out the one line that says why the command failed.
            let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            let line = serde_json::json!({
                "timestamp": ts,
                "level": "ERROR",
                "message": one_line,
                "exit_code": code,
                "target": "crlbatch",
            });
            let _ = writeln!(Stderr { bars: self.bars.clone() }, "{line}");
        } else {
            eprintln!("crlbatch: error: {one_line}");
        }
    }
}

/// stderr, printing above the progress bars when they are drawn.
#[derive(Debug, Clone)]
struct Stderr {
    bars: Option<MultiProgress>,
}

impl<'a> MakeWriter<'a> for Stderr {
    type Writer = Stderr;

    fn make_writer(&'a self) -> Stderr {
        self.clone()
    }
}

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &self.bars {
            Some(mp) => mp.suspend(|| std::io::stderr().lock().write_all(buf))?,
            None => std::io::stderr().lock().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// `crlbatch: [level: ]message key=value ...` (logfmt-style values).
struct TextFormat;

impl<S, N> FormatEvent<S, N> for TextFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, _ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> std::fmt::Result {
        let level = match *event.metadata().level() {
            Level::ERROR => "error: ",
            Level::WARN => "warning: ",
            Level::INFO => "",
            _ => "debug: ",
        };
        let mut v = Logfmt::default();
        event.record(&mut v);
        writeln!(writer, "crlbatch: {level}{}{}", v.message, v.fields)
    }
}

#[derive(Default)]
struct Logfmt {
    message: String,
    fields: String,
}

impl Logfmt {
    fn push(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={}", field.name(), quote(value));
        }
    }
}

impl Visit for Logfmt {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.push(field, &format!("{value:?}"));
    }
}

/// A value as is when it is one plain word, else quoted.
fn quote(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'=') {
        s.to_owned()
    } else {
        format!("{s:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn values_are_quoted_only_when_needed() {
        assert_eq!(quote("http://127.0.0.1:80/a.crl"), "http://127.0.0.1:80/a.crl");
        assert_eq!(quote("two words"), "\"two words\"");
        assert_eq!(quote(""), "\"\"");
        assert_eq!(quote("a=b"), "\"a=b\"");
    }
}
