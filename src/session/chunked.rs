//! Long session files read and written a step at a time: each `[[steps]]` table is parsed or
//! written on its own (on all cores), so memory stays near the size of the steps themselves
//! instead of a document tree many times the file's size.

use super::doc::SessionDoc;
use crate::core::Step;
use serde::{Deserialize, Serialize};

/// Below this many steps the whole file is parsed in one go.
const MIN_STEPS: usize = 256;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepsIn {
    steps: Vec<Step>,
}

#[derive(Serialize)]
struct StepsOut<'a> {
    steps: &'a [Step],
}

/// Parses a file written in the shape this build writes (top-level keys and tables first, then
/// one `[[steps]]` table after another). `None` means "parse it whole": the file is short, or
/// it is shaped otherwise, or some part failed; the whole-file parse then gives the real error.
///
/// Cutting at a `[[steps]]` line inside a multi-line string cannot go unnoticed: the piece
/// before the cut ends inside that open string and fails to parse.
pub(super) fn parse(text: &str) -> Option<SessionDoc> {
    let cuts = step_headers(text);
    if cuts.len() < MIN_STEPS {
        return None;
    }
    let mut doc: SessionDoc = toml::from_str(&text[..cuts[0]]).ok()?;
    if !doc.steps.is_empty() {
        return None;
    }
    let pieces: Vec<&str> = cuts
        .iter()
        .zip(cuts.iter().skip(1).chain(std::iter::once(&text.len())))
        .map(|(&a, &b)| &text[a..b])
        .collect();
    let mut steps = Vec::with_capacity(pieces.len());
    for group in in_parallel(&pieces, parse_group)? {
        steps.extend(group);
    }
    doc.steps = steps;
    Some(doc)
}

fn parse_group(pieces: &[&str]) -> Option<Vec<Step>> {
    let mut steps = Vec::with_capacity(pieces.len());
    for piece in pieces {
        let mut one: StepsIn = toml::from_str(piece).ok()?;
        steps.append(&mut one.steps);
    }
    Some(steps)
}

/// Runs `work` on as many contiguous groups of `items` as there are cores (at most 8), and
/// gives the results in order; `None` when any group gives `None`.
fn in_parallel<T: Sync, R: Send>(items: &[T], work: fn(&[T]) -> Option<R>) -> Option<Vec<R>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let per = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(per)
            .map(|group| scope.spawn(move || work(group)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().ok().flatten())
            .collect()
    })
}

/// Byte offsets of every line that is exactly `[[steps]]`.
fn step_headers(text: &str) -> Vec<usize> {
    const HEADER: &str = "[[steps]]";
    let mut cuts = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']) == HEADER {
            cuts.push(at);
        }
        at += line.len();
    }
    cuts
}

/// Writes the document a step at a time; `None` when it is short (write it whole) or a part
/// cannot be written (the whole-document writer then names the error).
pub(super) fn write(doc: &SessionDoc) -> Option<String> {
    if doc.steps.len() < MIN_STEPS {
        return None;
    }
    // Every field named, so a new one cannot be left out of the head.
    let head = SessionDoc {
        format: doc.format,
        name: doc.name.clone(),
        created: doc.created.clone(),
        updated: doc.updated.clone(),
        zedit_version: doc.zedit_version.clone(),
        source: doc.source.clone(),
        source_name: doc.source_name.clone(),
        source_orientation: doc.source_orientation.clone(),
        head: doc.head,
        steps: Vec::new(),
    };
    let mut out = toml::to_string(&head).ok()?;
    for part in in_parallel(&doc.steps, write_group)? {
        out.push_str(&part);
    }
    Some(out)
}

fn write_group(steps: &[Step]) -> Option<String> {
    let mut out = String::new();
    for step in steps {
        out.push('\n');
        out.push_str(
            &toml::to_string(&StepsOut {
                steps: std::slice::from_ref(step),
            })
            .ok()?,
        );
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn long_doc(n: u32) -> SessionDoc {
        let text = std::fs::read_to_string("sessions/beach/session.toml").unwrap();
        let mut doc = SessionDoc::parse(&text, Path::new("beach")).unwrap();
        let one = doc.steps[1].clone();
        doc.steps = (1..=n)
            .map(|i| {
                let mut s = one.clone();
                s.id = crate::core::StepId(i);
                s.parent = (i > 1).then(|| crate::core::StepId(i - 1));
                s.instruction = format!("step {i}");
                s
            })
            .collect();
        doc.head = Some(crate::core::StepId(n));
        doc
    }

    #[test]
    fn a_long_file_reads_back_the_same_a_step_at_a_time_and_whole() {
        let doc = long_doc(1000);
        let piecewise = write(&doc).expect("long enough to write in pieces");
        let whole = toml::to_string(&doc).unwrap();
        let from_pieces = parse(&piecewise).expect("the shape this build writes");
        assert_eq!(from_pieces, doc);
        assert_eq!(toml::from_str::<SessionDoc>(&piecewise).unwrap(), doc);
        assert_eq!(parse(&whole), Some(doc));
    }

    #[test]
    fn a_file_shaped_otherwise_is_left_to_the_whole_file_parser() {
        let doc = long_doc(400);
        let text = write(&doc).unwrap();
        // A table after the steps: valid TOML, but not the shape read in pieces.
        let moved = format!("{text}\n[extra]\nx = 1\n");
        assert_eq!(parse(&moved), None);
        // A header line inside a multi-line string: the piece before it does not parse.
        let cut = text.replacen(
            "instruction = \"step 1\"",
            "instruction = \"\"\"step 1\n[[steps]]\nid = 2\"\"\"",
            1,
        );
        assert_ne!(cut, text);
        assert_eq!(parse(&cut), None);
        assert_eq!(parse("format = 2\n"), None);
    }
}
