//! Typed actions: what a key, a palette command or a finished effect asks the state to do.

use super::backend::JobEvent;
use crate::core::ImageRef;
use crate::session::{Session, SessionSummary};
use std::fmt;
use std::str::FromStr;

/// Everything `update` understands. Keymap `run` strings parse into the commands below once,
/// at load; the rest come from the runtime (results of effects, text from the terminal).
#[derive(Debug, Clone)]
pub enum Action {
    Cmd(Command),
    /// Text typed, pasted or composed by an IME, for the focused input line.
    Insert(String),
    Resize,
    /// Time since the running job started, so the status line can show it.
    Elapsed(std::time::Duration),
    SessionsListed(Vec<SessionSummary>),
    SessionOpened(Box<Session>, Option<(u32, u32)>),
    MaskStored(ImageRef),
    /// Candidates for the clicks or box sent as segmentation `seq` (older ones are dropped).
    Segmented {
        seq: u64,
        result: Result<SegmentReply, String>,
    },
    /// The `*.safetensors` files of the LoRA folder, sorted.
    LorasListed(Vec<std::path::PathBuf>),
    /// The completed text for the open prompt.
    Completed(String),
    Job(JobEvent),
    /// The backend's state for the status line changed ("local", "worker pid 123").
    Backend(String),
    /// An effect failed; the text names what and why.
    Failed(String),
    Info(String),
}

/// What a segmentation found: candidates best first, and the model to record with the mask.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentReply {
    pub model: String,
    pub digest: String,
    pub candidates: Vec<crate::worker::SegmentCandidate>,
    /// Whether the image had to be embedded (false: the kept embedding served).
    pub embedded: bool,
    pub took_ms: u64,
}

macro_rules! commands {
    ($($name:ident = $text:literal),* $(,)?) => {
        /// A user command: bound to keys in the keymap and offered by the `:` palette.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Command { $($name),* }

        impl Command {
            pub const ALL: &'static [Command] = &[$(Command::$name),*];
            pub fn as_str(self) -> &'static str {
                match self { $(Command::$name => $text),* }
            }
        }
    };
}

commands! {
    Quit = "quit",
    Back = "back",
    Help = "help",
    Palette = "palette",
    Redraw = "redraw",
    Up = "up",
    Down = "down",
    Top = "top",
    Bottom = "bottom",
    Left = "left",
    Right = "right",
    Confirm = "confirm",
    Open = "open",
    NewSession = "new-session",
    Rename = "rename",
    Delete = "delete",
    Filter = "filter",
    Refresh = "refresh",
    FocusInput = "focus-input",
    Checkout = "checkout",
    Undo = "undo",
    Cancel = "cancel",
    Retry = "retry",
    Replay = "replay",
    ToggleBefore = "toggle-before",
    ToggleSplit = "toggle-split",
    MaskEdit = "mask-edit",
    MaskLoad = "mask-load",
    MaskClear = "mask-clear",
    MaskShape = "mask-shape",
    Segment = "segment",
    PointAdd = "point-add",
    PointNeg = "point-neg",
    PointUndo = "point-undo",
    SegmentBox = "segment-box",
    NextCandidate = "next-candidate",
    MaskWords = "mask-words",
    MoveLeft = "move-left",
    MoveRight = "move-right",
    MoveUp = "move-up",
    MoveDown = "move-down",
    MoveLeftBig = "move-left-big",
    MoveRightBig = "move-right-big",
    MoveUpBig = "move-up-big",
    MoveDownBig = "move-down-big",
    Narrower = "narrower",
    Wider = "wider",
    Shorter = "shorter",
    Taller = "taller",
    Grow = "grow",
    Shrink = "shrink",
    FeatherMore = "feather-more",
    FeatherLess = "feather-less",
    NextField = "next-field",
    PrevField = "prev-field",
    EditField = "edit-field",
    EditPrompt = "edit-prompt",
    CycleOp = "cycle-op",
    CycleRegion = "cycle-region",
    StrengthUp = "strength-up",
    StrengthDown = "strength-down",
    NewSeed = "new-seed",
    MoveStepUp = "move-step-up",
    MoveStepDown = "move-step-down",
    DeleteStep = "delete-step",
    AddStep = "add-step",
    RunAll = "run-all",
    RunOne = "run-one",
    Complete = "complete",
    Backspace = "backspace",
    DeleteChar = "delete-char",
    Home = "home",
    End = "end",
    WordBack = "word-back",
    ClearLine = "clear-line",
    Loras = "loras",
    Toggle = "toggle",
    WeightUp = "weight-up",
    WeightDown = "weight-down",
    Yes = "yes",
    No = "no",
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown command '{0}'")]
pub struct UnknownCommand(pub String);

impl FromStr for Command {
    type Err = UnknownCommand;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Command::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == t)
            .ok_or_else(|| UnknownCommand(t.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_round_trips() {
        for c in Command::ALL {
            assert_eq!(c.as_str().parse::<Command>(), Ok(*c));
        }
        assert!("launch".parse::<Command>().is_err());
    }
}
