//! Drawing: `render(&State, &Theme, &mut Frame)` only reads the state, and returns where the
//! image pane should draw which image.

mod plan;
mod popup;
mod session;
mod sessions;

use super::pane::{PaneKey, Slot};
use super::state::{Focus, Screen, State};
use super::theme::Theme;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

/// Where the image pane draws: one entry per visible preview.
pub type PreviewAreas = Vec<(Slot, Rect, PaneKey)>;

/// Draws the screens and returns the preview areas; call `render_popups` after the pane.
pub fn render(state: &State, theme: &Theme, frame: &mut Frame) -> PreviewAreas {
    let area = frame.area();
    frame.render_widget(Block::default().style(theme.base()), area);
    // Long messages (config errors naming files) get up to three lines.
    let message_len = state.message.as_ref().map_or(0, |m| {
        unicode_width::UnicodeWidthStr::width(m.text.as_str()) + 8
    });
    let message_rows = (message_len as u16).div_ceil(area.width.max(1)).clamp(1, 3);
    let [title, body, message, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(message_rows),
        Constraint::Length(1),
    ])
    .areas(area);
    render_title(state, theme, frame, title);
    let previews = match (state.screen, &state.session) {
        (Screen::Session, Some(view)) => session::render(state, view, theme, frame, body),
        _ => {
            sessions::render(state, theme, frame, body);
            Vec::new()
        }
    };
    render_message(state, theme, frame, message);
    render_status(state, theme, frame, status);
    previews
}

/// Popups go on top of everything, the image pane included, so they are drawn last.
pub fn render_popups(state: &State, theme: &Theme, frame: &mut Frame) {
    popup::render(state, theme, frame, frame.area());
}

fn render_title(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let place = match (state.screen, &state.session) {
        (Screen::Session, Some(v)) => format!("session {}", v.doc.name),
        _ => format!("sessions in {}", state.sessions.root.display()),
    };
    let line = Line::from(vec![
        Span::styled(
            " zedit ",
            Style::default()
                .fg(theme.selection_fg)
                .bg(theme.accent)
                .add_modifier(Modifier::BOLD),
        ),
        Span::styled(format!(" {place}"), Style::default().fg(theme.fg)),
        Span::styled(
            "   ? help  : commands  q quit",
            Style::default().fg(theme.muted),
        ),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

fn render_message(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let Some(m) = &state.message else {
        return;
    };
    let (prefix, color) = if m.error {
        ("error: ", theme.error)
    } else {
        ("", theme.ok)
    };
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(
            format!(" {prefix}{}", m.text),
            Style::default().fg(color),
        )))
        .wrap(ratatui::widgets::Wrap { trim: false }),
        area,
    );
}

fn mode_name(state: &State) -> &'static str {
    match (state.screen, state.focus) {
        (Screen::Sessions, _) => "SESSIONS",
        (Screen::Session, Focus::Steps) => "STEPS",
        (Screen::Session, Focus::Input) => "INSERT",
        (Screen::Session, Focus::Plan) => "PLAN",
        (Screen::Session, Focus::Mask) => "MASK",
    }
}

/// The status line's right side: engine, backend, job progress, elapsed, queue.
pub fn status_text(state: &State) -> String {
    let mut parts = vec![
        format!("engine {}", state.engine),
        state.backend.clone(),
        format!("preview {}", state.preview_name),
    ];
    match &state.run {
        Some(run) => {
            parts.push(format!("job {}/{}", run.done + 1, run.total));
            if let Some((s, t)) = run.progress {
                parts.push(format!("step {s}/{t}"));
            } else {
                parts.push("waiting".into());
            }
            parts.push(format!("{:.1}s", run.elapsed.as_secs_f32()));
            parts.push(format!("queue {}", run.queue.len()));
            if run.cancelling {
                parts.push("cancelling".into());
            }
        }
        None => parts.push("idle".into()),
    }
    parts.join(" · ")
}

fn render_status(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let style = Style::default().fg(theme.status_fg).bg(theme.status_bg);
    let right = status_text(state);
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Length(10), Constraint::Min(1)]).areas(area);
    frame.render_widget(
        Paragraph::new(format!(" {}", mode_name(state))).style(style.add_modifier(Modifier::BOLD)),
        left_area,
    );
    frame.render_widget(
        Paragraph::new(format!("{right} "))
            .style(style)
            .alignment(ratatui::layout::Alignment::Right),
        right_area,
    );
}
