//! Popups drawn over the screens: help (from the keymap), the command palette, confirmations
//! and one-line prompts.

use super::super::state::{Confirm, Layer, LoraPicker, PromptKind, State};
use super::super::theme::Theme;
use super::super::update::palette_matches;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn block<'a>(title: String, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(theme.border(true))
        .style(theme.base())
}

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    match &state.layer {
        None => {}
        Some(Layer::Loras(picker)) => loras(state, picker, theme, frame, area),
        Some(Layer::Help { scroll }) => help(state, *scroll, theme, frame, area),
        Some(Layer::Palette { input, selected }) => {
            let r = centered(area, 70, 16);
            frame.render_widget(Clear, r);
            let matches = palette_matches(state, input.text());
            let mut lines = vec![Line::from(format!(": {}", input.text())), Line::from("")];
            for (i, (cmd, desc)) in matches.iter().enumerate().take(r.height as usize - 4) {
                let style = if i == *selected {
                    theme.selected()
                } else {
                    Style::default().fg(theme.fg)
                };
                lines.push(Line::from(Span::styled(
                    format!(" {:<16} {desc}", cmd.as_str()),
                    style,
                )));
            }
            frame.render_widget(
                Paragraph::new(lines).block(block(" Commands ".into(), theme)),
                r,
            );
            let col = input.cursor_column() as u16;
            frame.set_cursor_position(Position::new(r.x + 3 + col, r.y + 1));
        }
        Some(Layer::Confirm(Confirm::DeleteSession { name, .. })) => {
            let r = centered(area, 60, 5);
            frame.render_widget(Clear, r);
            let text = vec![
                Line::from(format!("Delete session '{name}' and all its images?")),
                Line::from(Span::styled(
                    "y delete · n keep",
                    Style::default().fg(theme.muted),
                )),
            ];
            frame.render_widget(
                Paragraph::new(text).block(block(" Confirm ".into(), theme)),
                r,
            );
        }
        Some(Layer::Prompt { kind, input }) => {
            let title = match kind {
                PromptKind::NewSession => " New session: image path (Tab completes) ".to_string(),
                PromptKind::Rename => " Rename session ".to_string(),
                PromptKind::Filter => " Filter sessions ".to_string(),
                PromptKind::MaskFile => {
                    " Mask image path (white = change; Tab completes) ".to_string()
                }
                PromptKind::Field(f) => format!(" Edit {} ", f.label()),
                PromptKind::RecipePrompt => " Prompt: what the picture should show ".to_string(),
            };
            let r = centered(area, 70, 3);
            frame.render_widget(Clear, r);
            let width = r.width.saturating_sub(4) as usize;
            let (shown, col) = input.visible(width);
            frame.render_widget(
                Paragraph::new(format!("> {shown}")).block(block(title, theme)),
                r,
            );
            frame.set_cursor_position(Position::new(r.x + 3 + col as u16, r.y + 1));
        }
    }
}

fn help(state: &State, scroll: u16, theme: &Theme, frame: &mut Frame, area: Rect) {
    let r = centered(
        area,
        area.width.saturating_sub(8),
        area.height.saturating_sub(4),
    );
    frame.render_widget(Clear, r);
    let mut lines = Vec::new();
    let mut last = "";
    for h in &state.help {
        if h.context != last {
            if !last.is_empty() {
                lines.push(Line::from(""));
            }
            lines.push(Line::from(Span::styled(
                h.context.to_string(),
                Style::default()
                    .fg(theme.accent)
                    .add_modifier(Modifier::BOLD),
            )));
            last = h.context;
        }
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<22}", h.keys), Style::default().fg(theme.head)),
            Span::styled(h.desc.clone(), Style::default().fg(theme.fg)),
        ]));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .scroll((scroll, 0))
            .block(block(" Help: j/k scroll, Esc close ".into(), theme)),
        r,
    );
}

fn loras(state: &State, picker: &LoraPicker, theme: &Theme, frame: &mut Frame, area: Rect) {
    let r = centered(
        area,
        70,
        (picker.items.len() as u16).saturating_add(4).min(20),
    );
    frame.render_widget(Clear, r);
    let mut lines = Vec::new();
    for (i, l) in picker.items.iter().enumerate() {
        let name = l.path.file_name().map_or_else(
            || l.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mark = if l.on { "[x]" } else { "[ ]" };
        let style = if i == picker.selected {
            theme.selected()
        } else {
            Style::default().fg(theme.fg)
        };
        let text = format!(
            " {mark} {:<44} {:>5.1}",
            crate::printable::printable(&name),
            l.weight
        );
        lines.push(Line::from(Span::styled(text, style)));
    }
    lines.push(Line::from(Span::styled(
        "Space on/off · +/- weight · Enter done",
        Style::default().fg(theme.muted),
    )));
    let title = format!(
        " LoRAs in {} ",
        crate::printable::printable(&state.lora_dir.display().to_string())
    );
    frame.render_widget(Paragraph::new(lines).block(block(title, theme)), r);
}
