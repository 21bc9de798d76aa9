//! Chains: an instruction given line by line is one step (or more) a line, in the user's
//! order; a step that points back ("make it golden", "让它趴下") acts on what the step before
//! made, so its target is that new subject.

use super::classify::refers_back;
use super::order::{self, Draft};
use super::segment;
use super::target::head;
use crate::core::Op;

/// The non-empty lines of an instruction, when it is written one action a line.
pub fn lines(text: &str) -> Option<Vec<&str>> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.chars().any(char::is_alphanumeric))
        .collect();
    (lines.len() >= 2).then_some(lines)
}

/// Plans each line on its own and keeps the lines in order; a line that holds no action (a
/// greeting, a reason) goes with the step before it.
pub fn plan_lines(lines: &[&str]) -> Vec<Draft> {
    let mut out: Vec<Draft> = Vec::new();
    for line in lines {
        let normalized = segment::normalize(line);
        let clauses = segment::clauses(&normalized);
        if clauses.is_empty() {
            continue;
        }
        let drafts = order::assemble(&clauses);
        let idle = drafts.len() == 1 && drafts[0].op == Op::Edit && drafts[0].reading.verbless;
        match out.last_mut() {
            Some(last) if idle => last.extras.push(order::Extra {
                kind: super::classify::Kind::Attribute,
                text: drafts[0].clause.clone(),
            }),
            _ => {
                let compound = order::compound(&clauses, &drafts);
                let drafts = order::split_compound(drafts, compound);
                let explicit = segment::explicit_order(&normalized);
                let mut drafts = order::order(drafts, explicit);
                for d in &mut drafts {
                    d.reading.rule += "; one step a line, in the given order";
                }
                out.extend(drafts);
            }
        }
    }
    out
}

const PRONOUNS: &[&str] = &["it", "its", "them", "him", "her", "they", "this", "that"];
const PRONOUNS_ZH: &[&str] = &["它们", "它", "他们", "她们", "他", "她", "其"];

fn points_back(draft: &Draft) -> bool {
    let subject = draft.reading.subject.as_deref().unwrap_or("").trim();
    let first = subject
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    PRONOUNS.contains(&first.as_str())
        || PRONOUNS_ZH.iter().any(|p| subject.starts_with(p))
        || (draft.reading.subject.is_none() && refers_back(&draft.clause))
}

/// What a step leaves in the picture that a later step can point at.
fn result_of(draft: &Draft) -> Option<String> {
    match draft.op {
        Op::Replace => draft
            .reading
            .value
            .as_deref()
            .and_then(head)
            .or_else(|| draft.target.clone()),
        Op::Add | Op::Recolor | Op::Edit => draft
            .target
            .clone()
            .or_else(|| draft.reading.subject.as_deref().and_then(head)),
        _ => None,
    }
}

/// Points each step that refers back at the subject the step before made.
pub fn resolve(drafts: &mut [Draft]) {
    for i in 1..drafts.len() {
        let eligible = matches!(
            drafts[i].op,
            Op::Recolor | Op::Edit | Op::Replace | Op::Delete
        );
        if !eligible || drafts[i].target.is_some() || !points_back(&drafts[i]) {
            continue;
        }
        if let Some(thing) = result_of(&drafts[i - 1]) {
            drafts[i].target = Some(thing);
            drafts[i].reading.rule += "; \"it\" is what the step before made";
        }
    }
}
