//! The session screen: the step tree, the selected step's details, the preview and the
//! instruction line.

use super::super::pane::{Clicks, Overlay, PaneKey, Slot};
use super::super::state::{Focus, PreviewMode, SessionView, State};
use super::super::theme::Theme;
use super::PreviewAreas;
use crate::core::MaskSpec;
use crate::core::{ImageRef, Status, Step};
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph};
use ratatui::Frame;

pub fn icon(status: Status) -> &'static str {
    match status {
        Status::Pending => "·",
        Status::Running => "⟳",
        Status::Done => "✓",
        Status::Failed => "✗",
        Status::Cancelled => "⊘",
        Status::Interrupted => "!",
    }
}

pub fn render(
    state: &State,
    view: &SessionView,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) -> PreviewAreas {
    let [main, input] = Layout::vertical([Constraint::Min(5), Constraint::Length(3)]).areas(area);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(main);
    let [tree, details] = Layout::vertical([Constraint::Min(3), Constraint::Length(8)]).areas(left);
    render_tree(state, view, theme, frame, tree);
    render_details(view, theme, frame, details);
    render_input(state, theme, frame, input);
    let preview_area = match &state.plan {
        Some(plan) if state.focus == Focus::Plan || state.focus == Focus::Mask => {
            let h = (plan.steps.len() as u16 + 4).min(right.height.saturating_sub(4));
            let [p, rest] =
                Layout::vertical([Constraint::Length(h), Constraint::Min(3)]).areas(right);
            super::plan::render(state, plan, theme, frame, p);
            rest
        }
        _ => right,
    };
    previews(state, view, preview_area)
}

fn render_tree(state: &State, view: &SessionView, theme: &Theme, frame: &mut Frame, area: Rect) {
    let focused = state.focus == Focus::Steps;
    let items: Vec<ListItem> = view
        .rows
        .iter()
        .map(|row| {
            let head = view.doc.head == row.id;
            let mark = if head { "*" } else { " " };
            let indent = "  ".repeat(row.depth.saturating_sub(1));
            let line = match row.id.and_then(|id| view.doc.step(id)) {
                None => Line::from(vec![
                    Span::styled(mark, Style::default().fg(theme.head)),
                    Span::raw(format!(
                        " source {}",
                        view.doc.source_name.as_deref().unwrap_or("image")
                    )),
                ]),
                Some(s) => {
                    let color = match s.status {
                        Status::Done => theme.ok,
                        Status::Running | Status::Pending => theme.running,
                        Status::Failed | Status::Interrupted => theme.error,
                        Status::Cancelled => theme.warn,
                    };
                    let branch = if row.depth > 1 { "└ " } else { "" };
                    Line::from(vec![
                        Span::styled(mark, Style::default().fg(theme.head)),
                        Span::raw(format!(" {indent}{branch}#{} ", s.id)),
                        Span::styled(icon(s.status), Style::default().fg(color)),
                        Span::raw(format!(" {:<7} {}", s.op.as_str(), s.instruction)),
                    ])
                }
            };
            let line = if head {
                line.style(Style::default().add_modifier(Modifier::BOLD))
            } else {
                line
            };
            ListItem::new(line)
        })
        .collect();
    let title = format!(" Steps ({}) ", view.doc.steps.len());
    let list = List::new(items)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(title)
                .border_style(theme.border(focused)),
        )
        .highlight_style(if focused {
            theme.selected()
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        });
    let mut list_state = ListState::default().with_selected(Some(view.selected));
    frame.render_stateful_widget(list, area, &mut list_state);
}

fn details_lines(step: &Step) -> Vec<Line<'static>> {
    let p = &step.params;
    let mut lines = vec![
        Line::from(format!("{} \"{}\"", step.op, step.instruction)),
        Line::from(format!(
            "{} · {} · {}",
            step.status,
            step.engine,
            step.took_ms
                .map(|t| format!("{t} ms"))
                .unwrap_or_else(|| "-".into())
        )),
        Line::from(format!(
            "strength {} · steps {} · seed {}",
            p.strength, p.steps, p.seed
        )),
    ];
    let mut extra = Vec::new();
    if let Some(r) = p.region {
        extra.push(format!("region {r}"));
    }
    if p.grow > 0 || p.feather > 0 {
        extra.push(format!("grow {} feather {}", p.grow, p.feather));
    }
    match (&step.mask_spec, &step.mask) {
        (Some(spec), _) => extra.push(format!("mask {spec}")),
        (None, Some(_)) => extra.push("mask image".into()),
        (None, None) => {}
    }
    if let Some(a) = p.amount {
        extra.push(format!("amount {a}"));
    }
    if !extra.is_empty() {
        lines.push(Line::from(extra.join(" · ")));
    }
    if let Some(e) = &step.error {
        lines.push(Line::from(format!("error: {e}")));
    }
    lines
}

fn render_details(view: &SessionView, theme: &Theme, frame: &mut Frame, area: Rect) {
    let (title, lines) = match view.selected_id().and_then(|id| view.doc.step(id)) {
        Some(s) => (format!(" Step #{} ", s.id), details_lines(s)),
        None => (
            " Source ".to_string(),
            vec![
                Line::from(view.doc.source_name.clone().unwrap_or_default()),
                Line::from(match view.image_size {
                    Some((w, h)) => format!("{w}x{h} · created {}", view.doc.created),
                    None => format!("created {}", view.doc.created),
                }),
            ],
        ),
    };
    frame.render_widget(
        Paragraph::new(lines)
            .style(Style::default().fg(theme.fg))
            .wrap(ratatui::widgets::Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(title)
                    .border_style(theme.border(false)),
            ),
        area,
    );
}

fn render_input(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let focused = state.focus == Focus::Input && state.layer.is_none();
    let mask = state
        .next_mask
        .as_ref()
        .map(|m| format!(" mask {} ", mask_label(m)))
        .unwrap_or_default();
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Instruction (i to type, Enter to plan) ")
        .title_bottom(Line::from(mask).style(Style::default().fg(theme.mask)))
        .border_style(theme.border(focused));
    let inner = block.inner(area);
    let width = inner.width.saturating_sub(2) as usize;
    let (shown, col) = state.input.visible(width);
    let text = if shown.is_empty() && !focused {
        Span::styled(
            "say what to change, e.g. 把背景变暖 or warm afternoon light",
            Style::default().fg(theme.muted),
        )
    } else {
        Span::styled(shown, Style::default().fg(theme.fg))
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![Span::raw("> "), text])).block(block),
        area,
    );
    if focused {
        frame.set_cursor_position(Position::new(inner.x + 2 + col as u16, inner.y));
    }
}

pub fn mask_label(m: &MaskSpec) -> String {
    m.to_string()
}

/// The mask with where it comes from, for the plan review: words, clicks, a drawn shape, a file.
pub fn mask_source(m: &MaskSpec) -> String {
    use crate::core::MaskShape;
    match m.shape {
        MaskShape::Text { .. } => format!("words {m}"),
        MaskShape::Points { .. } | MaskShape::Box { .. } => format!("clicks {m}"),
        MaskShape::Rect { .. } | MaskShape::Ellipse { .. } => format!("drawn {m}"),
        MaskShape::File { .. } => m.to_string(),
    }
}

/// The mask being drawn, else the one set for the next edit: drawn shapes only (a file's
/// pixels are not read on the UI thread).
fn overlay(state: &State) -> Option<Overlay> {
    let spec = state
        .mask_edit
        .as_ref()
        .map(|e| &e.spec)
        .or(state.next_mask.as_ref())?;
    spec.shape.bounds().map(|_| spec.clone())
}

/// Whether the pane shows an overlay at all (clicks ride with it).
fn with_clicks(state: &State, ov: Option<Overlay>) -> Option<Overlay> {
    match (
        &ov,
        state.mask_edit.as_ref().and_then(|e| e.clicks.as_ref()),
    ) {
        (None, Some(_)) => state.mask_edit.as_ref().map(|e| e.spec.clone()),
        _ => ov,
    }
}

/// The clicks being placed, with the candidate shown.
fn clicks(state: &State) -> Option<Clicks> {
    let c = state.mask_edit.as_ref()?.clicks.as_ref()?;
    let mask = c
        .found
        .as_ref()
        .and_then(|f| f.candidates.get(c.pick))
        .map(|cand| cand.image.blake3.clone());
    Some(Clicks {
        mask,
        points: c.points.clone(),
        cursor: c.cursor,
    })
}

fn key(state: &State, view: &SessionView, image: &ImageRef, overlay: Option<Overlay>) -> PaneKey {
    let clicks = overlay.is_some().then(|| clicks(state)).flatten();
    PaneKey {
        path: view.dir.join(&image.path),
        hash: image.blake3.clone(),
        overlay,
        clicks,
    }
}

fn previews(state: &State, view: &SessionView, area: Rect) -> PreviewAreas {
    let step = view.selected_id().and_then(|id| view.doc.step(id));
    let before = step.map(|s| &s.input).unwrap_or(&view.doc.source);
    let after = step.and_then(|s| s.output.as_ref()).unwrap_or(before);
    let ov = with_clicks(state, overlay(state));
    match view.preview {
        PreviewMode::After => vec![(Slot::After, area, key(state, view, after, ov))],
        PreviewMode::Before => vec![(Slot::Before, area, key(state, view, before, ov))],
        PreviewMode::Split => {
            let [a, b] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                    .areas(area);
            vec![
                (Slot::Before, a, key(state, view, before, None)),
                (Slot::After, b, key(state, view, after, ov)),
            ]
        }
    }
}
