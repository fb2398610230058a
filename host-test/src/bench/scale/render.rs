//! The scale table of one registry: a row per store size, medians with requests per
//! operation.

use super::super::table::{count, duration, markdown, mib};
use super::measure::{Figure, ScaleRow};

const HEADERS: [&str; 12] = [
    "objects",
    "fill: objects/s",
    "list packfile (req)",
    "native tag list, same pages (req)",
    "native tag list, 1 request",
    "list state (req)",
    "list lock (req)",
    "open (req)",
    "put (req)",
    "get, first (req)",
    "get, known (req)",
    "one list: linear memory +grown (size); RSS peak +",
];

/// The rows as a Markdown table.
pub fn render(rows: &[ScaleRow]) -> String {
    let cells: Vec<Vec<String>> = rows.iter().map(cells).collect();
    markdown(&HEADERS, &cells)
}

fn cells(row: &ScaleRow) -> Vec<String> {
    let (added, took) = row.fill;
    let rate = if added == 0 || took.is_zero() {
        "—".to_string()
    } else {
        format!("{:.0}", added as f64 / took.as_secs_f64())
    };
    let (grown, size) = row.memory.linear;
    let rss = row.memory.rss.map_or("—".to_string(), |b| mib(b as usize));
    vec![
        thousands(row.objects),
        rate,
        figure(&row.list[0]),
        figure(&row.native_paged),
        duration(row.native_whole.samples.median()),
        figure(&row.list[1]),
        figure(&row.list[2]),
        figure(&row.open),
        figure(&row.put),
        figure(&row.get_first),
        figure(&row.get_known),
        format!("+{} ({}); {rss}", mib(grown), mib(size)),
    ]
}

/// `median (requests per operation)`.
fn figure(f: &Figure) -> String {
    if f.samples.0.is_empty() {
        return "—".into();
    }
    format!("{} ({})", duration(f.samples.median()), count(f.per_op()))
}

/// 100000 as `100,000`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn a_row_has_a_cell_per_column() {
        let table = render(&[ScaleRow::default()]);
        assert_eq!(table.lines().count(), 3);
        let cells = table.lines().nth(2).unwrap().matches('|').count();
        assert_eq!(cells, HEADERS.len() + 1);
    }
}
