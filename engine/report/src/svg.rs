//! Inline SVG charts. Each mark carries its number as text twice: a visible
//! label and a `<title>` (a tooltip, and what a test or a screen reader
//! finds). No script, no external reference, no `xmlns` URL (inline SVG in
//! HTML needs none).

use crate::html::esc;

/// Labels longer than this are cut (with an ellipsis) on the chart; the
/// `<title>` keeps the full text.
const MAX_LABEL_CHARS: usize = 40;

/// One bar of a horizontal bar chart.
#[derive(Debug, Clone)]
pub(crate) struct Bar {
    pub label: String,
    /// The length; negative values draw no bar (the text still shows them).
    pub value: f64,
    /// The number as shown, e.g. `1,234` or `12.0 h`.
    pub text: String,
    /// CSS class of the bar (`st-good`, `st-revoked`, ...).
    pub class: &'static str,
}

/// One column of a column chart; `None` = no value for that column.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub label: String,
    pub value: Option<f64>,
    pub text: String,
    pub class: &'static str,
}

fn cut(label: &str) -> String {
    if label.chars().count() <= MAX_LABEL_CHARS {
        label.to_owned()
    } else {
        let mut s: String = label.chars().take(MAX_LABEL_CHARS - 1).collect();
        s.push('\u{2026}');
        s
    }
}

/// The positive maximum of `values`, or `None` when nothing is above zero.
fn positive_max(values: impl Iterator<Item = f64>) -> Option<f64> {
    let m = values.filter(|v| v.is_finite()).fold(0.0_f64, f64::max);
    (m > 0.0).then_some(m)
}

/// Length of `value` on a scale where `max` maps to `full`; non-zero
/// values get at least one pixel so they are seen.
fn scaled(value: f64, max: Option<f64>, full: f64) -> f64 {
    match max {
        Some(m) if value.is_finite() && value > 0.0 => (value / m * full).max(1.0),
        _ => 0.0,
    }
}

/// A horizontal bar chart, one row per bar, in the given order. The label
/// and value columns are as wide as their longest text.
pub(crate) fn hbar(title: &str, bars: &[Bar]) -> String {
    const PLOT_W: f64 = 300.0;
    const ROW: f64 = 24.0;
    const BAR: f64 = 16.0;
    const TOP: f64 = 4.0;
    /// Average glyph width at the chart's 12 px font (bold values are wider).
    const CHAR_W: f64 = 6.8;
    const VALUE_CHAR_W: f64 = 7.6;
    if bars.is_empty() {
        return format!("<p class=\"empty\">{}: no data.</p>", esc(title));
    }
    let longest = |f: &dyn Fn(&Bar) -> usize| bars.iter().map(f).max().unwrap_or(0) as f64;
    let label_w = (longest(&|b| cut(&b.label).chars().count()) * CHAR_W + 8.0).clamp(60.0, 270.0);
    let text_w = longest(&|b| b.text.chars().count()) * VALUE_CHAR_W + 12.0;
    let x0 = label_w + 8.0;
    let w = x0 + PLOT_W + text_w;
    let max = positive_max(bars.iter().map(|b| b.value));
    let h = TOP * 2.0 + ROW * bars.len() as f64;
    let mut o = format!(
        "<svg class=\"chart hbar\" viewBox=\"0 0 {w:.0} {h:.0}\" width=\"{w:.0}\" height=\"{h:.0}\" role=\"group\" \
         aria-label=\"{t}\"><title>{t}</title>\n",
        t = esc(title)
    );
    o.push_str(&format!(
        "<line class=\"axis\" x1=\"{x0:.1}\" y1=\"{TOP:.1}\" x2=\"{x0:.1}\" y2=\"{:.1}\"/>\n",
        h - TOP
    ));
    for (i, b) in bars.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let w = scaled(b.value, max, PLOT_W);
        let label = esc(&b.label);
        let text = esc(&b.text);
        o.push_str(&format!(
            "<g class=\"bar\"><title>{label}: {text}</title>\
             <text class=\"label\" x=\"{lx:.1}\" y=\"{ty:.1}\" text-anchor=\"end\">{short}</text>\
             <rect class=\"{class}\" x=\"{x0:.1}\" y=\"{by:.1}\" width=\"{w:.1}\" height=\"{BAR:.1}\" rx=\"2\"/>\
             <text class=\"value\" x=\"{vx:.1}\" y=\"{ty:.1}\">{text}</text></g>\n",
            lx = label_w,
            ty = y + ROW / 2.0 + 4.0,
            short = esc(&cut(&b.label)),
            class = b.class,
            by = y + (ROW - BAR) / 2.0,
            vx = x0 + w + 6.0,
        ));
    }
    o.push_str("</svg>");
    o
}

/// A column chart, one column per entry, left to right; every column is
/// labelled with its value above and its label below.
pub(crate) fn columns(title: &str, cols: &[Column]) -> String {
    const COL: f64 = 44.0;
    const MIN_PLOT_W: f64 = 520.0;
    const LEFT: f64 = 16.0;
    const TOP: f64 = 24.0;
    const PLOT_H: f64 = 180.0;
    const BOTTOM: f64 = 78.0;
    if cols.is_empty() {
        return format!("<p class=\"empty\">{}: no data.</p>", esc(title));
    }
    let n = cols.len() as f64;
    let plot_w = (COL * n).max(MIN_PLOT_W);
    let step = plot_w / n;
    let col_w = (step * 0.62).min(40.0);
    let w = LEFT * 2.0 + plot_w;
    let h = TOP + PLOT_H + BOTTOM;
    let base = TOP + PLOT_H;
    let max = positive_max(cols.iter().filter_map(|c| c.value));
    let mut o = format!(
        "<svg class=\"chart columns\" viewBox=\"0 0 {w:.0} {h:.0}\" width=\"{w:.0}\" height=\"{h:.0}\" \
         role=\"group\" aria-label=\"{t}\"><title>{t}</title>\n",
        t = esc(title)
    );
    o.push_str(&format!(
        "<line class=\"axis\" x1=\"{LEFT:.1}\" y1=\"{base:.1}\" x2=\"{:.1}\" y2=\"{base:.1}\"/>\n",
        LEFT + plot_w
    ));
    for (i, c) in cols.iter().enumerate() {
        let cx = LEFT + step * (i as f64 + 0.5);
        let label = esc(&c.label);
        let text = esc(&c.text);
        let ch = c.value.map_or(0.0, |v| scaled(v, max, PLOT_H));
        let ly = base + 14.0;
        o.push_str(&format!(
            "<g class=\"col\"><title>{label}: {text}</title>\
             <rect class=\"{class}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{col_w:.1}\" height=\"{ch:.1}\" rx=\"2\"/>\
             <text class=\"value\" x=\"{cx:.1}\" y=\"{vy:.1}\" text-anchor=\"middle\">{text}</text>\
             <text class=\"label\" x=\"{cx:.1}\" y=\"{ly:.1}\" text-anchor=\"end\" \
             transform=\"rotate(-40 {cx:.1} {ly:.1})\">{short}</text></g>\n",
            class = c.class,
            x = cx - col_w / 2.0,
            y = base - ch,
            vy = base - ch - 5.0,
            short = esc(&cut(&c.label)),
        ));
    }
    o.push_str("</svg>");
    o
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn bar(label: &str, value: f64) -> Bar {
        Bar { label: label.to_owned(), value, text: format!("{value}"), class: "st-good" }
    }

    #[test]
    fn zero_values_draw_empty_bars_with_labels() {
        let svg = hbar("all zero", &[bar("a", 0.0), bar("b", 0.0)]);
        assert!(svg.contains("<title>a: 0</title>"), "{svg}");
        assert!(svg.contains("<title>b: 0</title>"), "{svg}");
        assert_eq!(svg.matches("width=\"0.0\"").count(), 2, "{svg}");
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");

        let cols = columns(
            "zeros",
            &[
                Column { label: "2026-11-25".into(), value: Some(0.0), text: "0".into(), class: "st-good" },
                Column { label: "2026-11-26".into(), value: None, text: "n/a".into(), class: "st-good" },
            ],
        );
        assert!(cols.contains("<title>2026-11-25: 0</title>"), "{cols}");
        assert!(cols.contains(">n/a</text>"), "{cols}");
        assert!(!cols.contains("NaN") && !cols.contains("inf"), "{cols}");
    }

    #[test]
    fn scales_to_the_largest_and_keeps_small_ones_visible() {
        let svg = hbar("t", &[bar("big", 1000.0), bar("tiny", 0.001), bar("neg", -5.0)]);
        assert!(svg.contains("width=\"300.0\""), "{svg}");
        assert!(svg.contains("width=\"1.0\""), "{svg}");
        assert!(svg.contains("<title>neg: -5</title>"), "{svg}");
    }

    #[test]
    fn empty_and_hostile_labels() {
        assert!(hbar("<none>", &[]).contains("&lt;none&gt;: no data."));
        let svg = hbar("t", &[bar("<script>x</script>", 1.0)]);
        assert!(!svg.contains("<script>"), "{svg}");
        let long = "x".repeat(100);
        let svg = hbar("t", &[bar(&long, 1.0)]);
        assert!(svg.contains(&format!("<title>{long}: 1</title>")));
        assert!(svg.contains('\u{2026}'));
    }
}
