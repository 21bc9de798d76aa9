//! Plan review: the planned steps as a table, the selected field highlighted.

use super::super::state::{Field, Focus, PlanState, State};
use super::super::theme::Theme;
use super::session::mask_source;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Row, Table};
use ratatui::Frame;

pub fn render(state: &State, plan: &PlanState, theme: &Theme, frame: &mut Frame, area: Rect) {
    let focused = state.focus == Focus::Plan;
    let rows: Vec<Row> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let region = match (&d.mask, d.region) {
                (Some(m), _) => mask_source(m),
                (None, Some(r)) => r.to_string(),
                (None, None) => "-".into(),
            };
            let values = [
                d.op.to_string(),
                d.instruction.clone(),
                format!("{:.2}", d.strength),
                d.seed.to_string(),
                region,
            ];
            let cells: Vec<Cell> = std::iter::once(Cell::from(format!("{}.", i + 1)))
                .chain(values.into_iter().zip(Field::ALL).map(|(v, f)| {
                    let mut style = Style::default().fg(theme.fg);
                    if i == plan.selected {
                        style = style.add_modifier(Modifier::BOLD);
                        if f == plan.field && focused {
                            style = theme.selected();
                        }
                    }
                    Cell::from(v).style(style)
                }))
                .collect();
            Row::new(cells)
        })
        .collect();
    let header = Row::new(std::iter::once("#").chain(Field::ALL.iter().map(|f| f.label())))
        .style(Style::default().fg(theme.muted));
    // What the model is told for the selected step, so the user can check and edit it (p).
    let told = plan
        .steps
        .get(plan.selected)
        .and_then(|d| d.recipe.as_ref())
        .map(|r| match &r.source_prompt {
            Some(src) => format!(" {}: \"{src}\" → \"{}\" · p edits ", r.mode, r.prompt),
            None => format!(" {}: \"{}\" · p edits ", r.mode, r.prompt),
        });
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(" Plan: Enter runs all, r this one, e edits, o op, +/- strength, J/K move ")
        .title_bottom(Line::from(" d delete · a add · m mask · Esc back "))
        .border_style(theme.border(focused));
    if let Some(told) = told {
        block = block.title_bottom(Line::from(told).right_aligned());
    }
    let table = Table::new(
        rows,
        [
            Constraint::Length(3),
            Constraint::Length(8),
            Constraint::Min(12),
            Constraint::Length(8),
            Constraint::Length(6),
            Constraint::Length(14),
        ],
    )
    .header(header)
    .block(block);
    frame.render_widget(table, area);
}
