//! The sessions list.

use super::super::state::State;
use super::super::theme::Theme;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let s = &state.sessions;
    let visible = s.visible();
    let mut title = format!(" Sessions ({}) ", visible.len());
    if !s.filter.is_empty() {
        title = format!(" Sessions ({}) filter: {} ", visible.len(), s.filter);
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(theme.border(true));
    if s.items.is_empty() {
        let text = vec![
            Line::from(""),
            Line::from(format!("  No sessions in {} yet.", s.root.display())),
            Line::from("  Press n and type an image path to start one."),
        ];
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    let rows: Vec<Row> = visible
        .iter()
        .enumerate()
        .map(|(i, idx)| {
            let item = &s.items[*idx];
            let style = if i == s.selected {
                theme.selected()
            } else {
                Style::default().fg(theme.fg)
            };
            let note = match &item.error {
                Some(e) => {
                    Cell::from(format!("unreadable: {e}")).style(Style::default().fg(theme.error))
                }
                None => Cell::from(item.updated.clone()),
            };
            let marker = if i == s.selected { "▶ " } else { "  " };
            Row::new(vec![
                Cell::from(format!("{marker}{}", item.name)),
                Cell::from(format!("{} steps", item.steps)),
                note,
            ])
            .style(style)
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Percentage(40),
            Constraint::Length(10),
            Constraint::Min(10),
        ],
    )
    .header(Row::new(vec!["  name", "steps", "updated"]).style(Style::default().fg(theme.muted)))
    .block(block);
    let mut table_state = TableState::default().with_selected(Some(s.selected));
    frame.render_stateful_widget(table, area, &mut table_state);
}
