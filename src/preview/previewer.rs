//! The UI-side handle: non-blocking requests, draining results, drawing slots.

use std::{
    collections::HashMap,
    sync::{
        atomic::Ordering,
        mpsc::{self, Receiver, Sender},
        Arc, Mutex,
    },
};

use ratatui::{
    buffer::CellDiffOption,
    layout::{Alignment, Rect, Size},
    style::{Color, Modifier, Style},
    widgets::{Paragraph, Wrap},
    Frame,
};
use ratatui_image::{
    picker::{Picker, ProtocolType},
    protocol::Protocol,
    Image,
};

use super::{
    cache::Lru,
    detect,
    worker::{Counters, PreviewDone, PreviewJob, PreviewWorker, Waker},
    PreviewConfig, PreviewError, PreviewKey, Slot,
};

/// Encoded panes kept on the UI side, so flicking back to a recent step shows it at once.
const ENCODED_CAP: usize = 8;

enum Shown {
    Image {
        key: PreviewKey,
        protocol: Arc<Protocol>,
    },
    Failed {
        key: PreviewKey,
        message: String,
    },
}

#[derive(Default)]
struct SlotState {
    /// The latest request: what the slot should show, and at which size in cells.
    wanted: Option<(PreviewKey, Size)>,
    /// What it shows now; may lag `wanted` while the worker catches up.
    shown: Option<Shown>,
}

/// Terminal image previews for the TUI; see the module docs for the threading model.
pub struct Previewer {
    picker: Picker,
    label: String,
    jobs: Sender<PreviewJob>,
    done: Receiver<PreviewDone>,
    slots: HashMap<Slot, SlotState>,
    encoded: Lru<(PreviewKey, Size), Arc<Protocol>>,
    counters: Arc<Counters>,
    waker: Arc<Mutex<Option<Waker>>>,
    changed: bool,
}

impl Previewer {
    /// Detects the protocol by querying the terminal (falling back to half-blocks), applying
    /// the config override. Call before the event loop starts reading input.
    pub fn new(config: &PreviewConfig) -> Result<Previewer, PreviewError> {
        Ok(Previewer::with_picker(detect::detect_picker(config)))
    }

    /// For tests and non-tty use: half-blocks with a given font size, no terminal query.
    pub fn headless(font_size: (u16, u16)) -> Previewer {
        Previewer::with_picker(detect::headless_picker(font_size))
    }

    /// Uses a picker the caller built (e.g. with its own terminal query).
    pub fn with_picker(picker: Picker) -> Previewer {
        let (jobs, job_rx) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let counters = Arc::new(Counters::default());
        let waker: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
        let worker = PreviewWorker::new(picker.clone(), counters.clone(), waker.clone());
        // If no thread can be spawned every slot stays "loading…", but the UI keeps working.
        let _ = std::thread::Builder::new()
            .name("zedit-preview".into())
            .spawn(move || worker.run(job_rx, done_tx));
        Previewer {
            label: detect::protocol_label(&picker),
            picker,
            jobs,
            done,
            slots: HashMap::new(),
            encoded: Lru::new(ENCODED_CAP),
            counters,
            waker,
            changed: false,
        }
    }

    /// Registers a callback run on the worker thread after each finished preview, so the event
    /// loop can wake and call [`Previewer::poll`] instead of polling on a timer.
    pub fn set_waker(&mut self, waker: impl Fn() + Send + Sync + 'static) {
        if let Ok(mut slot) = self.waker.lock() {
            *slot = Some(Arc::new(waker));
        }
    }

    /// Non-blocking: asks for `key` to be shown in `area` (cells). Repeating the current
    /// request is free, so it may be called every frame.
    pub fn request(&mut self, slot: Slot, key: &PreviewKey, area: Rect) {
        let cells = Size::new(area.width, area.height);
        if cells.width == 0 || cells.height == 0 {
            return;
        }
        let state = self.slots.entry(slot).or_default();
        if state
            .wanted
            .as_ref()
            .is_some_and(|(k, c)| k == key && *c == cells)
        {
            return;
        }
        state.wanted = Some((key.clone(), cells));
        if let Some(protocol) = self.encoded.get(&(key.clone(), cells)) {
            state.shown = Some(Shown::Image {
                key: key.clone(),
                protocol: protocol.clone(),
            });
            self.changed = true;
            return;
        }
        let job = PreviewJob {
            slot,
            key: key.clone(),
            cells,
        };
        // A send fails only if the worker thread is gone; the slot then stays "loading…".
        let _ = self.jobs.send(job);
    }

    /// Drains finished work; true when something new is ready to draw.
    pub fn poll(&mut self) -> bool {
        while let Ok(done) = self.done.try_recv() {
            let id = (done.key.clone(), done.cells);
            if let Ok(protocol) = &done.result {
                self.encoded.put(id.clone(), protocol.clone());
            }
            let Some(state) = self.slots.get_mut(&done.slot) else {
                continue;
            };
            // Latest wins: a result for anything but the slot's current request is only cached.
            if state.wanted.as_ref() != Some(&id) {
                continue;
            }
            state.shown = Some(match done.result {
                Ok(protocol) => Shown::Image {
                    key: done.key,
                    protocol,
                },
                Err(message) => Shown::Failed {
                    key: done.key,
                    message,
                },
            });
            self.changed = true;
        }
        std::mem::take(&mut self.changed)
    }

    /// Draws the slot's image if ready, else a "loading…" or error placeholder; never blocks.
    /// A slot drawn at a new size re-requests itself at that size.
    pub fn render(&mut self, frame: &mut Frame, slot: Slot, area: Rect) {
        if area.width == 0 || area.height == 0 {
            return;
        }
        let cells = Size::new(area.width, area.height);
        let resized = self
            .slots
            .get(&slot)
            .and_then(|s| s.wanted.as_ref())
            .filter(|(_, c)| *c != cells)
            .map(|(k, _)| k.clone());
        if let Some(key) = resized {
            self.request(slot, &key, area);
        }
        let graphics = self.picker.protocol_type() != ProtocolType::Halfblocks;
        let Some(state) = self.slots.get(&slot) else {
            return;
        };
        let wanted = state.wanted.as_ref().map(|(k, _)| k);
        if graphics {
            // Graphics linger in the terminal until text is written over them: force the whole
            // pane to be rewritten so a smaller or replaced image leaves nothing behind.
            for y in area.top()..area.bottom() {
                for x in area.left()..area.right() {
                    if let Some(cell) = frame.buffer_mut().cell_mut((x, y)) {
                        cell.reset();
                        cell.set_diff_option(CellDiffOption::AlwaysUpdate);
                    }
                }
            }
        }
        match &state.shown {
            Some(Shown::Image { protocol, .. }) if fits(protocol.size(), cells) => {
                let size = protocol.size();
                let target = Rect::new(
                    area.x + (area.width - size.width) / 2,
                    area.y + (area.height - size.height) / 2,
                    size.width,
                    size.height,
                );
                frame.render_widget(Image::new(protocol), target);
            }
            Some(Shown::Failed { key, message }) if Some(key) == wanted => {
                let style = Style::default().fg(Color::LightRed);
                placeholder(frame, area, &format!("⚠ {message}"), style);
            }
            _ => {
                let name = wanted.map(PreviewKey::file_name).unwrap_or_default();
                let style = Style::default()
                    .fg(Color::DarkGray)
                    .add_modifier(Modifier::ITALIC);
                placeholder(frame, area, &format!("loading {name}…"), style);
            }
        }
    }

    /// Ctrl-L: forgets every encoded image so each is encoded and sent to the terminal again.
    /// The caller also clears the terminal (`Terminal::clear`) so every cell is redrawn.
    pub fn reset(&mut self) {
        self.encoded.clear();
        for (slot, state) in &mut self.slots {
            if let Some((key, cells)) = &state.wanted {
                let job = PreviewJob {
                    slot: *slot,
                    key: key.clone(),
                    cells: *cells,
                };
                let _ = self.jobs.send(job);
            }
        }
        self.changed = true;
    }

    /// Stops showing anything in `slot` (e.g. a pane that closed).
    pub fn forget(&mut self, slot: Slot) {
        self.slots.remove(&slot);
    }

    /// The protocol in use, e.g. "sixel", "kitty via tmux" or "halfblocks".
    pub fn protocol_name(&self) -> &str {
        &self.label
    }

    pub fn picker(&self) -> &Picker {
        &self.picker
    }

    /// The key the slot currently displays (an image or its error), if any.
    pub fn shown(&self, slot: Slot) -> Option<&PreviewKey> {
        match &self.slots.get(&slot)?.shown {
            Some(Shown::Image { key, .. }) | Some(Shown::Failed { key, .. }) => Some(key),
            None => None,
        }
    }

    /// How many image files the worker has decoded (cache misses), for tests.
    pub fn decode_count(&self) -> u64 {
        self.counters.decodes.load(Ordering::Relaxed)
    }

    /// How many panes the worker has encoded, for tests.
    pub fn encode_count(&self) -> u64 {
        self.counters.encodes.load(Ordering::Relaxed)
    }
}

fn fits(size: Size, cells: Size) -> bool {
    size.width <= cells.width && size.height <= cells.height
}

fn placeholder(frame: &mut Frame, area: Rect, text: &str, style: Style) {
    let row = area.y + area.height.saturating_sub(1) / 2;
    let rows = area.bottom() - row;
    let text_area = Rect::new(area.x, row, area.width, rows);
    let widget = Paragraph::new(text.to_string())
        .style(style)
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true });
    frame.render_widget(widget, text_area);
}
