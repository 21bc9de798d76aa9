//! From clauses to ordered drafts: attribute clauses attach to their step, repeated relights
//! merge, a person or animal replaced inside a compound instruction becomes delete then add,
//! and steps are put in the order that works best (delete, then add, then light and style).

use super::classify::{self, Kind, Reading};
use super::compose;
use super::lexicon::is_colour_only;
use super::purpose::is_purpose;
use super::region;
use super::target::{head, is_being};
use crate::core::{Op, Region};

/// A clause that goes with a step rather than being one.
#[derive(Debug, Clone, PartialEq)]
pub struct Extra {
    pub kind: Kind,
    pub text: String,
}

/// A step being planned: its main clause as read, and the clauses attached to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub op: Op,
    pub clause: String,
    pub reading: Reading,
    pub region: Option<Region>,
    pub extras: Vec<Extra>,
    /// Set when the planner wrote the step's text itself (a split replace).
    pub rewritten: Option<String>,
    /// Set when the step's target is not the reading's subject (the add of a split replace).
    pub target: Option<String>,
    /// A replace whose old or new subject is a person or an animal.
    pub swaps_being: bool,
    /// Clauses folded into this step that only finished it ("换个背景,改成海边").
    pub merged: usize,
}

impl Draft {
    fn new(op: Op, clause: &str, reading: Reading) -> Self {
        let swaps_being = op == Op::Replace
            && [&reading.subject, &reading.value]
                .into_iter()
                .flatten()
                .filter_map(|p| head(p))
                .any(|h| is_being(&h));
        Draft {
            op,
            clause: clause.to_string(),
            region: reading.region.or_else(|| region::find(clause)),
            reading,
            extras: Vec::new(),
            rewritten: None,
            target: None,
            swaps_being,
            merged: 0,
        }
    }
}

/// Reads every clause and attaches the ones that are not steps. Attributes and supports go
/// with the step before them; any that come before the first step go with it.
pub fn assemble(clauses: &[String]) -> Vec<Draft> {
    let mut drafts: Vec<Draft> = Vec::new();
    let mut pending: Vec<Extra> = Vec::new();
    for clause in clauses {
        // "…, as if watching the sunset", "营造温馨的感觉": how or why the step before is done.
        if let Some(last) = drafts.last_mut().filter(|_| is_purpose(clause)) {
            last.extras.push(Extra {
                kind: Kind::Attribute,
                text: clause.clone(),
            });
            last.reading.rule += "; a purpose or manner clause goes with it";
            continue;
        }
        let reading = classify::read(clause);
        let follows_subject = drafts
            .last()
            .is_some_and(|d| matches!(d.op, Op::Add | Op::Replace));
        // "换个背景,改成海边": a change with no subject of its own finishes the one before.
        if let (Kind::Step(op @ (Op::Replace | Op::Recolor)), None) =
            (reading.kind, &reading.subject)
        {
            let open = drafts
                .last_mut()
                .filter(|d| d.op == Op::Replace && d.reading.value.is_none());
            if let Some(last) = open {
                last.reading.value = reading.value.clone();
                last.op = op;
                last.merged += 1;
                last.extras.push(Extra {
                    kind: Kind::Attribute,
                    text: clause.clone(),
                });
                continue;
            }
        }
        let kind = match reading.kind {
            Kind::Step(Op::Edit) if follows_subject && classify::refers_back(clause) => {
                Kind::Attribute
            }
            kind => kind,
        };
        match kind {
            Kind::Step(op) => {
                let mut draft = Draft::new(op, clause, reading);
                draft.extras.append(&mut pending);
                match drafts.last_mut() {
                    // Light and style said in several clauses are one step ("增加午后阳光,
                    // 暖色调"): the model does them together better than one after another.
                    Some(last) if last.op == op && matches!(op, Op::Relight | Op::Restyle) => {
                        last.extras.push(Extra {
                            kind: Kind::Step(op),
                            text: clause.clone(),
                        });
                        last.extras.append(&mut draft.extras);
                        last.region = last.region.or(draft.region);
                    }
                    _ => drafts.push(draft),
                }
            }
            kind => {
                let extra = Extra {
                    kind,
                    text: clause.clone(),
                };
                match drafts.last_mut() {
                    Some(last) => last.extras.push(extra),
                    None => pending.push(extra),
                }
            }
        }
    }
    if drafts.is_empty() {
        // Nothing recognisable: one free-form step with everything the user said, so the
        // plan is never empty. A bare colour ("dark brown") is a recolor of the whole picture.
        let text = clauses.join(if clauses.iter().any(|c| compose::is_zh(c)) {
            ","
        } else {
            ", "
        });
        let op = if is_colour_only(&text) {
            Op::Recolor
        } else {
            Op::Edit
        };
        let reading = Reading {
            kind: Kind::Step(op),
            subject: None,
            value: None,
            verbless: true,
            rule: match op {
                Op::Recolor => "a colour said alone: recolor the picture".to_string(),
                _ => "no rule matched: a free-form edit".to_string(),
            },
            region: None,
        };
        drafts.push(Draft::new(op, &text, reading));
    }
    drafts
}

/// Whether the clauses make a compound instruction: more than one clause beyond those that
/// only say why, or only finish a step.
pub fn compound(clauses: &[String], drafts: &[Draft]) -> bool {
    let said = clauses
        .iter()
        .filter(|c| !super::purpose::is_why(c))
        .count();
    said.saturating_sub(drafts.iter().map(|d| d.merged).sum()) > 1
}

/// In an instruction of several clauses, replacing a person or an animal is split into
/// deleting the old one and adding the new one: in one pass the model keeps the old pose and
/// drifts. Attributes of the new subject go with the add.
pub fn split_compound(drafts: Vec<Draft>, compound: bool) -> Vec<Draft> {
    if !compound {
        return drafts;
    }
    let mut out = Vec::with_capacity(drafts.len() + 1);
    for draft in drafts {
        if draft.op == Op::Replace && draft.swaps_being && draft.reading.value.is_some() {
            let (mut delete, mut add) = compose::split_replace(&draft);
            delete.reading.rule += "; a being replaced in a compound instruction: delete it first";
            add.reading.rule +=
                "; a being replaced in a compound instruction: then add the new one";
            out.push(delete);
            out.push(add);
        } else {
            out.push(draft);
        }
    }
    out
}

/// Removing comes first (so an add does not land on what is about to go), light and style
/// last (they apply to the finished scene). A user who spells out the order keeps theirs.
pub fn order(mut drafts: Vec<Draft>, explicit: bool) -> Vec<Draft> {
    if !explicit {
        drafts.sort_by_key(|d| rank(d.op));
    }
    drafts
}

fn rank(op: Op) -> u8 {
    match op {
        Op::Delete => 0,
        Op::Add | Op::Replace | Op::Recolor | Op::Edit => 1,
        Op::Relight | Op::Restyle => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(drafts: &[Draft]) -> Vec<Op> {
        drafts.iter().map(|d| d.op).collect()
    }

    fn clauses(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn attributes_attach_and_relights_merge() {
        let drafts = assemble(&clauses(&["增加午后阳光效果", "暖色调"]));
        assert_eq!(ops(&drafts), [Op::Relight]);
        assert_eq!(drafts[0].extras.len(), 1);
        let drafts = assemble(&clauses(&["将现代沙发换成复古皮质三人座", "深棕色"]));
        assert_eq!(ops(&drafts), [Op::Replace]);
        assert_eq!(drafts[0].extras[0].kind, Kind::Attribute);
    }

    #[test]
    fn compound_being_replace_splits_and_orders() {
        let list = clauses(&[
            "窗外阳光洒入",
            "把坐在沙发上的男人换成穿旗袍的女人",
            "面带微笑",
        ]);
        let drafts = order(split_compound(assemble(&list), true), false);
        assert_eq!(ops(&drafts), [Op::Delete, Op::Add, Op::Relight]);
        let single = split_compound(assemble(&clauses(&["把狗变成猫"])), false);
        assert_eq!(ops(&single), [Op::Replace]);
    }

    #[test]
    fn explicit_order_is_kept() {
        let list = clauses(&["提亮画面", "删除路人"]);
        assert_eq!(
            ops(&order(assemble(&list), true)),
            [Op::Relight, Op::Delete]
        );
        assert_eq!(
            ops(&order(assemble(&list), false)),
            [Op::Delete, Op::Relight]
        );
    }

    #[test]
    fn nothing_recognisable_is_one_edit() {
        assert_eq!(ops(&assemble(&clauses(&["让她笑一笑"]))), [Op::Edit]);
        assert_eq!(ops(&assemble(&clauses(&["smiling"]))), [Op::Edit]);
    }
}
