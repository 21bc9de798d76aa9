//! The studio's whole state: plain data that `update` changes and the views only read.

use super::backend::JobId;
use super::input::LineInput;
use super::keymap::{Context, HelpLine};
use crate::core::{ImageRef, MaskSpec, Op, Region, Status, StepId};
use crate::session::{SessionDoc, SessionSummary};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Sessions,
    Session,
}

/// Which pane of the session screen has the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Steps,
    Input,
    Plan,
    Mask,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewMode {
    After,
    Before,
    Split,
}

/// A popup above the screens; at most one at a time.
#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    Help { scroll: u16 },
    Palette { input: LineInput, selected: usize },
    Confirm(Confirm),
    Prompt { kind: PromptKind, input: LineInput },
    Loras(LoraPicker),
}

/// The LoRA picker's rows: every file of the LoRA folder.
#[derive(Debug, Clone, PartialEq)]
pub struct LoraPicker {
    pub items: Vec<LoraChoice>,
    pub selected: usize,
}

/// One LoRA file, on or off, with the weight it is applied with.
#[derive(Debug, Clone, PartialEq)]
pub struct LoraChoice {
    pub path: PathBuf,
    pub on: bool,
    pub weight: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Confirm {
    DeleteSession { name: String, dir: PathBuf },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    NewSession,
    Rename,
    Filter,
    MaskFile,
    Field(Field),
    /// The selected planned step's recipe prompt.
    RecipePrompt,
}

/// The editable columns of a planned step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Op,
    Text,
    Strength,
    Seed,
    Region,
}

impl Field {
    pub const ALL: [Field; 5] = [
        Field::Op,
        Field::Text,
        Field::Strength,
        Field::Seed,
        Field::Region,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::Op => "op",
            Field::Text => "text",
            Field::Strength => "strength",
            Field::Seed => "seed",
            Field::Region => "region",
        }
    }
}

/// Where an edited mask goes when accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskTarget {
    NextEdit,
    PlanStep(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct MaskEdit {
    pub spec: MaskSpec,
    pub target: MaskTarget,
    /// Set while the mask is found by Segment Anything from clicks (or the drawn box).
    pub clicks: Option<ClickEdit>,
}

/// Clicks for Segment Anything: a crosshair, the points placed, and what the model found.
#[derive(Debug, Clone, PartialEq)]
pub struct ClickEdit {
    /// The crosshair, in image pixels.
    pub cursor: (u32, u32),
    pub points: Vec<crate::core::MaskPoint>,
    /// The drawn rectangle, when it is sent as a box prompt.
    pub boxed: Option<crate::core::Rect>,
    /// The image segmented (the one the edit starts from) and its size.
    pub image: ImageRef,
    pub size: (u32, u32),
    /// The last answer: candidates best first, and the one shown.
    pub found: Option<super::action::SegmentReply>,
    pub pick: usize,
    /// The number of the last segmentation asked for; set while one runs.
    pub seq: u64,
    pub segmenting: bool,
}

/// One step of a plan under review, or of a chain queued to run.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftStep {
    pub op: Op,
    pub instruction: String,
    pub strength: f32,
    pub seed: u64,
    /// Op-specific: where the light comes from (relight), where to place (add), the part of the
    /// frame to change (delete, recolor). Never a drawn shape: that is `mask`.
    pub region: Option<Region>,
    /// What to change: a drawn rectangle or ellipse, or a mask file.
    pub mask: Option<MaskSpec>,
    /// Parameters carried over from a recorded step (retry, replay); defaults otherwise.
    pub base: Option<crate::core::EditParams>,
    /// The image a recorded `add` composited.
    pub overlay: Option<ImageRef>,
    /// What a generative engine is told (its prompt editable with `p`).
    pub recipe: Option<crate::core::Recipe>,
    /// The words naming what the step acts on, as planned ("杯子"): a mask can be found from them.
    pub target: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanState {
    pub steps: Vec<DraftStep>,
    pub selected: usize,
    pub field: Field,
}

/// A chain being run one job at a time: each step edits the previous one's output.
#[derive(Debug, Clone, PartialEq)]
pub struct RunState {
    pub dir: PathBuf,
    pub queue: VecDeque<DraftStep>,
    pub current: Option<JobId>,
    /// The step the next job edits.
    pub parent: Option<StepId>,
    pub done: usize,
    pub total: usize,
    pub progress: Option<(u32, u32)>,
    pub position: usize,
    pub elapsed: Duration,
    pub cancelling: bool,
}

/// One row of the step tree; `None` is the source image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeRow {
    pub id: Option<StepId>,
    pub depth: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionView {
    pub dir: PathBuf,
    pub doc: SessionDoc,
    pub rows: Vec<TreeRow>,
    pub selected: usize,
    pub image_size: Option<(u32, u32)>,
    pub preview: PreviewMode,
}

impl SessionView {
    pub fn new(dir: PathBuf, doc: SessionDoc, image_size: Option<(u32, u32)>) -> SessionView {
        let rows = tree_rows(&doc);
        let selected = rows.iter().position(|r| r.id == doc.head).unwrap_or(0);
        SessionView {
            dir,
            doc,
            rows,
            selected,
            image_size,
            preview: PreviewMode::After,
        }
    }

    pub fn selected_id(&self) -> Option<StepId> {
        self.rows.get(self.selected).and_then(|r| r.id)
    }

    pub fn status_of(&self, id: StepId) -> Option<Status> {
        self.doc.step(id).map(|s| s.status)
    }
}

/// Depth-first rows: each step under its parent, siblings in id order.
pub fn tree_rows(doc: &SessionDoc) -> Vec<TreeRow> {
    let mut rows = vec![TreeRow { id: None, depth: 0 }];
    let mut stack: Vec<(Option<StepId>, usize)> = vec![(None, 0)];
    while let Some((parent, depth)) = stack.pop() {
        if let Some(p) = parent {
            rows.push(TreeRow { id: Some(p), depth });
        }
        let mut kids: Vec<StepId> = doc
            .steps
            .iter()
            .filter(|s| s.parent == parent)
            .map(|s| s.id)
            .collect();
        kids.sort();
        for k in kids.into_iter().rev() {
            stack.push((Some(k), depth + 1));
        }
    }
    rows
}

#[derive(Debug, Clone, Default)]
pub struct SessionsState {
    pub root: PathBuf,
    pub items: Vec<SessionSummary>,
    pub selected: usize,
    pub filter: String,
}

impl SessionsState {
    /// Indices of the sessions the filter lets through.
    pub fn visible(&self) -> Vec<usize> {
        let f = self.filter.to_lowercase();
        (0..self.items.len())
            .filter(|i| f.is_empty() || self.items[*i].name.to_lowercase().contains(&f))
            .collect()
    }

    pub fn selected_item(&self) -> Option<&SessionSummary> {
        self.visible()
            .get(self.selected)
            .and_then(|i| self.items.get(*i))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub text: String,
    pub error: bool,
}

#[derive(Debug, Clone)]
pub struct State {
    pub screen: Screen,
    pub focus: Focus,
    pub sessions: SessionsState,
    pub session: Option<SessionView>,
    pub input: LineInput,
    pub plan: Option<PlanState>,
    pub next_mask: Option<MaskSpec>,
    pub mask_edit: Option<MaskEdit>,
    /// Where a mask file being stored goes when it arrives.
    pub mask_pending: Option<MaskTarget>,
    pub run: Option<RunState>,
    /// The LoRAs that go with the next edits (generative engines only).
    pub loras: Vec<LoraChoice>,
    /// Where the LoRA picker looks for `*.safetensors` files.
    pub lora_dir: PathBuf,
    /// The Segment Anything model clicks go to (a name or a weights path; `None`: the default).
    pub segment_model: Option<String>,
    pub layer: Option<Layer>,
    pub message: Option<Message>,
    pub help: Vec<HelpLine>,
    pub engine: String,
    pub backend: String,
    pub preview_name: String,
    /// Counts seeds handed out, so new ones differ without a clock or an RNG in `update`.
    pub seed_counter: u64,
    pub quit: bool,
}

impl State {
    pub fn new(root: PathBuf, help: Vec<HelpLine>, engine: &str, backend: &str) -> State {
        State {
            screen: Screen::Sessions,
            focus: Focus::Steps,
            sessions: SessionsState {
                root,
                ..Default::default()
            },
            session: None,
            input: LineInput::default(),
            plan: None,
            next_mask: None,
            mask_edit: None,
            mask_pending: None,
            run: None,
            loras: Vec::new(),
            lora_dir: PathBuf::from("loras"),
            segment_model: None,
            layer: None,
            message: None,
            help,
            engine: engine.into(),
            backend: backend.into(),
            preview_name: "text".into(),
            seed_counter: 0,
            quit: false,
        }
    }

    /// The keymap context that gets the next key.
    pub fn context(&self) -> Context {
        match &self.layer {
            Some(Layer::Help { .. }) => return Context::Help,
            Some(Layer::Confirm(_)) => return Context::Confirm,
            Some(Layer::Loras(_)) => return Context::Loras,
            Some(Layer::Palette { .. } | Layer::Prompt { .. }) => return Context::Input,
            None => {}
        }
        match (self.screen, self.focus) {
            (Screen::Sessions, _) => Context::Sessions,
            (Screen::Session, Focus::Steps) => Context::Session,
            (Screen::Session, Focus::Input) => Context::Input,
            (Screen::Session, Focus::Plan) => Context::Plan,
            (Screen::Session, Focus::Mask) => Context::Mask,
        }
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            error: true,
        });
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            error: false,
        });
    }
}
