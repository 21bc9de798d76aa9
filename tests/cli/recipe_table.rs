//! The recipe of every step of the instructions in `tests/data/recipes.toml` (Chinese,
//! English, mixed; every op; compound chains): its mode, mask source, and that its prompt holds
//! the new thing and never the thing deleted or replaced.

use serde::Deserialize;
use zedit::core::{MaskSource, Mode, Op};

#[derive(Deserialize)]
struct Table {
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    /// Where the caller's mask comes from.
    mask: MaskSource,
    steps: Vec<Want>,
}

#[derive(Deserialize)]
struct Want {
    op: Op,
    mode: Mode,
    mask_source: MaskSource,
    /// Substrings the prompt must hold.
    #[serde(default)]
    has: Vec<String>,
    /// Substrings the prompt must not hold.
    #[serde(default)]
    lacks: Vec<String>,
    /// Substrings the FlowEdit source prompt must hold.
    #[serde(default)]
    source_has: Vec<String>,
    /// Whether the recipe's check fails for want of a mask.
    #[serde(default)]
    needs_mask: bool,
}

#[test]
fn every_instruction_in_the_table_gets_its_recipes() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/recipes.toml");
    let table: Table = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(table.case.len() >= 40, "{} cases", table.case.len());
    let mut failures = Vec::new();
    let mut ops = std::collections::HashSet::new();
    for case in &table.case {
        let plan = zedit::plan::plan(&case.text).unwrap();
        let got: Vec<_> = plan
            .steps
            .iter()
            .map(|s| (s, zedit::recipe::derive(s, case.mask)))
            .collect();
        let mut problems = Vec::new();
        if got.len() != case.steps.len() {
            problems.push(format!("{} steps, want {}", got.len(), case.steps.len()));
        }
        for (i, ((step, r), want)) in got.iter().zip(&case.steps).enumerate() {
            ops.insert(step.op);
            let mut bad = |what: String| problems.push(format!("step {}: {what}", i + 1));
            if step.op != want.op {
                bad(format!("op {}, want {}", step.op, want.op));
            }
            if r.mode != want.mode {
                bad(format!("mode {}, want {}", r.mode, want.mode));
            }
            if r.mask_source != want.mask_source {
                bad(format!("mask {}, want {}", r.mask_source, want.mask_source));
            }
            for h in &want.has {
                if !r.prompt.contains(h.as_str()) {
                    bad(format!("prompt \"{}\" lacks \"{h}\"", r.prompt));
                }
            }
            for l in &want.lacks {
                if r.prompt.to_lowercase().contains(&l.to_lowercase()) {
                    bad(format!("prompt \"{}\" holds \"{l}\"", r.prompt));
                }
            }
            let source = r.source_prompt.as_deref().unwrap_or("");
            for h in &want.source_has {
                if !source.contains(h.as_str()) {
                    bad(format!("source \"{source}\" lacks \"{h}\""));
                }
            }
            if (r.mode == Mode::Flowedit) != r.source_prompt.is_some() {
                bad(format!(
                    "source prompt {:?} with mode {}",
                    r.source_prompt, r.mode
                ));
            }
            let fails = r.check(&step.instruction).is_err();
            if fails != want.needs_mask {
                bad(format!("check fails: {fails}, want {}", want.needs_mask));
            }
        }
        if !problems.is_empty() {
            let listing: Vec<String> = got
                .iter()
                .map(|(s, r)| format!("    {} \"{}\" -> {r:?}", s.op, s.instruction))
                .collect();
            failures.push(format!(
                "{}:\n  {}\n{}",
                case.text,
                problems.join("\n  "),
                listing.join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(ops.len(), Op::ALL.len(), "ops covered: {ops:?}");
}

/// The seed's worked example: delete (the sofa, no man), add (a woman in a qipao sitting on the
/// sofa, smiling), relight (the sunlight), each with its recipe.
#[test]
fn the_worked_example_plans_three_recipes() {
    let text = "把坐在沙发上的男人换成穿旗袍的女人,面带微笑,窗外阳光洒入";
    let plan = zedit::plan::plan(text).unwrap();
    let ops: Vec<Op> = plan.steps.iter().map(|s| s.op).collect();
    assert_eq!(ops, [Op::Delete, Op::Add, Op::Relight]);
    let r: Vec<_> = plan
        .steps
        .iter()
        .map(|s| zedit::recipe::derive(s, MaskSource::Drawn))
        .collect();
    assert_eq!(r[0].mode, Mode::ClassicPrefillInpaint);
    assert_eq!(r[0].prompt, "沙发");
    assert_eq!(r[1].mode, Mode::Inpaint);
    assert_eq!(r[1].prompt, "穿旗袍的女人坐在沙发上,微笑");
    assert_eq!(r[2].mode, Mode::Flowedit);
    assert_eq!(r[2].source_prompt.as_deref(), Some("一张照片"));
    assert_eq!(r[2].prompt, "一张照片,窗外阳光洒入");
    for x in &r {
        assert!(!x.prompt.contains("男人"), "{x:?}");
    }
}

/// `zedit plan --json` shows each step's recipe with the keys the studio and scripts read.
#[test]
fn plan_json_carries_each_steps_recipe() {
    let out = assert_cmd::Command::cargo_bin("zedit")
        .unwrap()
        .args([
            "plan",
            "--json",
            "把坐在沙发上的男人换成穿旗袍的女人,面带微笑,窗外阳光洒入",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3);
    for s in steps {
        let r = s["recipe"].as_object().unwrap();
        for key in [
            "mode",
            "prompt",
            "source_prompt",
            "negative_prompt",
            "mask_source",
        ] {
            assert!(r.contains_key(key), "{key} missing in {s}");
        }
    }
    assert_eq!(steps[0]["recipe"]["mode"], "classic_prefill_inpaint");
    assert_eq!(steps[0]["recipe"]["prompt"], "沙发");
    assert_eq!(steps[0]["keep"], "沙发");
    assert_eq!(steps[1]["recipe"]["prompt"], "穿旗袍的女人坐在沙发上,微笑");
    assert_eq!(steps[2]["recipe"]["source_prompt"], "一张照片");
    let text = assert_cmd::Command::cargo_bin("zedit")
        .unwrap()
        .args(["plan", "删除垃圾桶"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("classic_prefill_inpaint \"干净自然的背景\", needs a mask"),
        "{text}"
    );
}
