//! Samples, their median and spread, and the table the bench prints.

use std::fmt::Write as _;
use std::time::Duration;

/// The durations of one figure, one per run.
#[derive(Clone, Debug, Default)]
pub struct Samples(pub Vec<Duration>);

impl Samples {
    pub fn push(&mut self, d: Duration) {
        self.0.push(d);
    }

    fn sorted(&self) -> Vec<Duration> {
        let mut v = self.0.clone();
        v.sort_unstable();
        v
    }

    pub fn median(&self) -> Duration {
        let v = self.sorted();
        match v.len() {
            0 => Duration::ZERO,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2,
        }
    }

    pub fn min(&self) -> Duration {
        self.sorted().first().copied().unwrap_or_default()
    }

    pub fn max(&self) -> Duration {
        self.sorted().last().copied().unwrap_or_default()
    }

    /// `median (min–max)`, in a unit that suits the median.
    pub fn render(&self) -> String {
        if self.0.is_empty() {
            return "—".into();
        }
        format!(
            "{} ({}–{})",
            duration(self.median()),
            duration(self.min()),
            duration(self.max())
        )
    }
}

/// One row: a workload measured on the component and, where there is one, natively.
#[derive(Default)]
pub struct Row {
    pub name: String,
    pub component: Samples,
    pub native: Samples,
    /// Requests per operation, component and native.
    pub requests: Option<(f64, f64)>,
    /// Bytes moved per operation, for a throughput figure.
    pub bytes: Option<u64>,
    /// Linear memory: growth during the workload and the largest size, in bytes.
    pub memory: Option<(usize, usize)>,
}

impl Row {
    pub fn new(name: impl Into<String>) -> Row {
        Row {
            name: name.into(),
            ..Row::default()
        }
    }

    /// component / native, of the medians.
    pub fn ratio(&self) -> Option<f64> {
        let (c, n) = (self.component.median(), self.native.median());
        (!self.component.0.is_empty() && !self.native.0.is_empty() && !n.is_zero())
            .then(|| c.as_secs_f64() / n.as_secs_f64())
    }
}

const HEADERS: [&str; 7] = [
    "workload",
    "component: median (min–max)",
    "native: median (min–max)",
    "c/n",
    "MB/s c / n",
    "req/op c / n",
    "linear memory: +grown (peak)",
];

/// The rows as a Markdown table.
pub fn render(rows: &[Row]) -> String {
    let cells: Vec<Vec<String>> = rows.iter().map(cells).collect();
    markdown(&HEADERS, &cells)
}

/// A Markdown table whose columns are as wide as their widest cell.
pub fn markdown(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    line(&mut out, &headers, &widths);
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    line(&mut out, &rule, &widths);
    for row in rows {
        line(&mut out, row, &widths);
    }
    out
}

fn cells(row: &Row) -> Vec<String> {
    let mbps = |s: &Samples, bytes: u64| {
        let t = s.median().as_secs_f64();
        if s.0.is_empty() || t == 0.0 {
            "—".to_string()
        } else {
            format!("{:.0}", bytes as f64 / t / 1e6)
        }
    };
    vec![
        row.name.clone(),
        row.component.render(),
        row.native.render(),
        row.ratio().map_or("—".into(), |r| format!("{r:.2}")),
        row.bytes.map_or("—".into(), |b| {
            format!("{} / {}", mbps(&row.component, b), mbps(&row.native, b))
        }),
        row.requests.map_or("—".into(), |(c, n)| {
            format!("{} / {}", count(c), count(n))
        }),
        row.memory.map_or("—".into(), |(grown, peak)| {
            format!("+{} ({})", mib(grown), mib(peak))
        }),
    ]
}

fn line(out: &mut String, cells: &[String], widths: &[usize]) {
    out.push('|');
    for (cell, w) in cells.iter().zip(widths) {
        let pad = w - cell.chars().count();
        let _ = write!(out, " {cell}{} |", " ".repeat(pad));
    }
    out.push('\n');
}

/// A count per operation: whole where it is, else to two decimals.
pub fn count(n: f64) -> String {
    if n.is_nan() {
        "—".into()
    } else if n.fract() == 0.0 {
        format!("{n:.0}")
    } else {
        format!("{n:.2}")
    }
}

pub fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

pub fn duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1_000.0 {
        format!("{us:.0} µs")
    } else if us < 1_000_000.0 {
        format!("{:.1} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Samples {
        Samples(v.iter().map(|&m| Duration::from_millis(m)).collect())
    }

    #[test]
    fn median_and_spread() {
        let s = ms(&[30, 10, 20]);
        assert_eq!(s.median(), Duration::from_millis(20));
        assert_eq!(ms(&[10, 40]).median(), Duration::from_millis(25));
        assert_eq!(s.render(), "20.0 ms (10.0 ms–30.0 ms)");
    }

    #[test]
    fn ratio_is_component_over_native() {
        let row = Row {
            component: ms(&[30]),
            native: ms(&[20]),
            ..Row::new("x")
        };
        assert_eq!(row.ratio(), Some(1.5));
        assert_eq!(Row::new("y").ratio(), None);
    }

    #[test]
    fn the_table_has_a_line_per_row() {
        let rows = [Row::new("a"), Row::new("b")];
        let table = render(&rows);
        assert_eq!(table.lines().count(), 4);
        assert!(table
            .lines()
            .all(|l| l.starts_with('|') && l.ends_with('|')));
    }
}
