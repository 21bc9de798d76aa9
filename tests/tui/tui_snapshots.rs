//! Whole-screen snapshots (100x30, TestBackend) of the studio's main states, built from fixed
//! fixtures so they never depend on the clock or the machine.

use crate::tui_support;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tui_support::Harness;
use zedit::core::{EditParams, EngineId, ImageRef, Op, Region, Status, Step, StepError, StepId};
use zedit::session::{Session, SessionDoc, SessionSummary};
use zedit::tui::action::Action;
use zedit::tui::state::{DraftStep, Field, Focus, PlanState, PreviewMode, RunState};
use zedit::tui::JobId;

const ROOT: &str = "/home/ada/.local/share/zedit/sessions";

fn image(dir: &Path, name: &str) -> ImageRef {
    std::fs::create_dir_all(dir.join("images")).unwrap();
    let path = format!("images/{name}.png");
    image::RgbImage::new(64, 48).save(dir.join(&path)).unwrap();
    ImageRef {
        path,
        blake3: format!("{name}-hash"),
    }
}

fn step(dir: &Path, id: u32, parent: Option<u32>, op: Op, text: &str, status: Status) -> Step {
    let done = status == Status::Done;
    Step {
        id: StepId(id),
        parent: parent.map(StepId),
        op,
        instruction: text.into(),
        engine: EngineId {
            name: "classic".into(),
            version: "1".into(),
            model_digest: None,
            gguf_exec: None,
        },
        params: EditParams {
            seed: 1000 + id as u64,
            ..Default::default()
        },
        input: image(
            dir,
            &parent.map(|p| format!("out{p}")).unwrap_or("source".into()),
        ),
        mask_spec: None,
        mask: None,
        overlay: None,
        output: done.then(|| image(dir, &format!("out{id}"))),
        status,
        error: (status == Status::Failed).then(|| {
            StepError::from_joined("unsupported: the classic engine cannot restyle \"油画风格\"")
        }),
        runner_pid: (status == Status::Running).then(std::process::id),
        created: "2026-11-27T10:00:00Z".into(),
        took_ms: done.then_some(12),
        zedit_version: "0.1.0".into(),
        recipe: None,
    }
}

/// A session with a branch: #1 -> #2 -> #4 (head), and #3 failed on #1's output; #5 running.
fn branched(dir: &Path) -> SessionDoc {
    let steps = vec![
        step(
            dir,
            1,
            None,
            Op::Relight,
            "warm afternoon light",
            Status::Done,
        ),
        step(dir, 2, Some(1), Op::Relight, "brighter", Status::Done),
        step(dir, 3, Some(1), Op::Restyle, "油画风格", Status::Failed),
        step(
            dir,
            4,
            Some(2),
            Op::Relight,
            "cool the shadows",
            Status::Done,
        ),
    ];
    SessionDoc {
        format: 1,
        name: "beach".into(),
        created: "2026-11-27T09:00:00Z".into(),
        updated: "2026-11-27T10:00:00Z".into(),
        zedit_version: "0.1.0".into(),
        source: image(dir, "source"),
        source_name: Some("beach.jpg".into()),
        source_orientation: None,
        head: Some(StepId(4)),
        steps,
    }
}

fn open(h: &mut Harness, dir: &Path, doc: SessionDoc) {
    let session = fixture_session(dir, doc);
    h.app
        .dispatch(Action::SessionOpened(Box::new(session), Some((64, 48))));
}

fn fixture_session(dir: &Path, doc: SessionDoc) -> Session {
    std::fs::write(dir.join("session.toml"), doc.to_toml().unwrap()).unwrap();
    Session::load(dir).unwrap()
}

fn harness() -> (tempfile::TempDir, Harness, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let mut h = Harness::null(&tmp.path().join("none"));
    h.app.state.sessions.root = PathBuf::from(ROOT);
    let dir = tmp.path().join("beach");
    std::fs::create_dir_all(&dir).unwrap();
    (tmp, h, dir)
}

fn summary(name: &str, steps: usize, updated: &str, error: Option<&str>) -> SessionSummary {
    SessionSummary {
        name: name.into(),
        path: PathBuf::from(ROOT).join(name),
        steps,
        updated: updated.into(),
        error: error.map(Into::into),
    }
}

#[test]
fn sessions_list() {
    let (_tmp, mut h, _) = harness();
    h.app.dispatch(Action::SessionsListed(vec![
        summary("beach", 4, "2026-11-27T10:00:00Z", None),
        summary("产品图-1", 12, "2026-11-26T18:30:00Z", None),
        summary("portrait", 0, "2026-11-20T08:00:00Z", None),
        summary("broken", 0, "", Some("session.toml: missing 'format'")),
    ]));
    h.keys("j");
    insta::assert_snapshot!(h.screen(100, 30));
}

#[test]
fn session_with_a_branched_chain() {
    let (_tmp, mut h, dir) = harness();
    let doc = branched(&dir);
    open(&mut h, &dir, doc);
    insta::assert_snapshot!(h.screen(100, 30));
}

#[test]
fn split_preview_with_a_mask() {
    let (_tmp, mut h, dir) = harness();
    open(&mut h, &dir, branched(&dir));
    h.keys("sm<C-l>LL");
    assert_eq!(
        h.state().session.as_ref().unwrap().preview,
        PreviewMode::Split
    );
    insta::assert_snapshot!(h.screen(100, 30));
}

#[test]
fn plan_review() {
    let (_tmp, mut h, dir) = harness();
    open(&mut h, &dir, branched(&dir));
    h.keys("i删掉左边的路人，然后把背景变暖");
    let draft = |op, text: &str, strength, region| DraftStep {
        op,
        instruction: text.into(),
        strength,
        seed: 4242,
        region,
        mask: None,
        base: None,
        overlay: None,
        recipe: None,
        target: None,
    };
    h.app.state.plan = Some(PlanState {
        steps: vec![
            draft(Op::Delete, "删掉左边的路人", 0.8, Some(Region::Left)),
            draft(Op::Relight, "把背景变暖", 0.5, Some(Region::Background)),
        ],
        selected: 1,
        field: Field::Strength,
    });
    h.app.state.focus = Focus::Plan;
    insta::assert_snapshot!(h.screen(100, 30));
}

#[test]
fn job_running_with_progress() {
    let (_tmp, mut h, dir) = harness();
    let mut doc = branched(&dir);
    doc.steps.push(step(
        &dir,
        5,
        Some(4),
        Op::Relight,
        "golden hour",
        Status::Running,
    ));
    open(&mut h, &dir, doc);
    h.app.state.run = Some(RunState {
        dir: dir.clone(),
        queue: VecDeque::from(vec![DraftStep {
            op: Op::Relight,
            instruction: "more contrast".into(),
            strength: 0.6,
            seed: 7,
            region: None,
            mask: None,
            base: None,
            overlay: None,
            recipe: None,
            target: None,
        }]),
        current: Some(JobId(2)),
        parent: Some(StepId(4)),
        done: 1,
        total: 3,
        progress: Some((3, 8)),
        position: 0,
        elapsed: Duration::from_millis(1400),
        cancelling: false,
    });
    insta::assert_snapshot!(h.screen(100, 30));
}

#[test]
fn help_screen() {
    let (_tmp, mut h, _) = harness();
    h.keys("?");
    insta::assert_snapshot!(h.screen(100, 30));
}

#[test]
fn error_message() {
    let (_tmp, mut h, dir) = harness();
    open(&mut h, &dir, branched(&dir));
    h.keys("jjj");
    h.app.dispatch(Action::Failed(
        "step #3 restyle failed: unsupported: the classic engine cannot restyle \"油画风格\" (select it and press r to retry)".into(),
    ));
    insta::assert_snapshot!(h.screen(100, 30));
}

#[test]
fn command_palette() {
    let (_tmp, mut h, dir) = harness();
    open(&mut h, &dir, branched(&dir));
    h.keys(":re");
    insta::assert_snapshot!(h.screen(100, 30));
}
