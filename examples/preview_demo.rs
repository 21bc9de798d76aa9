//! A tiny ratatui app showing one image in a bordered pane through the zedit previewer.
//!
//! `cargo run --example preview_demo -- IMAGE [--protocol auto|kitty|sixel|iterm2|halfblocks]
//! [--rect X,Y,W,H] [--once]`; `q` quits, Ctrl-L re-sends the image. `--once` prints the
//! image at the cursor and exits, as `zedit show` does.

use std::{path::PathBuf, time::Duration};

use ratatui::{
    crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers},
    layout::{Constraint, Layout},
    text::Line,
    widgets::{Block, Borders},
};
use zedit::preview::{Overlay, PreviewConfig, PreviewKey, Previewer, Slot};

struct Args {
    path: PathBuf,
    config: PreviewConfig,
    overlay: Option<Overlay>,
    once: bool,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut config = PreviewConfig::default();
    let mut overlay = None;
    let mut once = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--protocol" => {
                let value = args.next().unwrap_or_default();
                config.protocol = value.parse()?;
            }
            "--rect" => {
                let value = args.next().unwrap_or_default();
                let n: Vec<u32> = value.split(',').filter_map(|v| v.parse().ok()).collect();
                let [x, y, w, h] = n[..] else {
                    anyhow::bail!("--rect wants X,Y,W,H in image pixels, got {value:?}");
                };
                overlay = Some(Overlay::Spec(zedit::core::MaskSpec::new(
                    zedit::core::MaskShape::Rect { x, y, w, h },
                )));
            }
            "--once" => once = true,
            _ => path = Some(PathBuf::from(arg)),
        }
    }
    let Some(path) = path else {
        anyhow::bail!("usage: preview_demo IMAGE [--protocol NAME] [--rect X,Y,W,H]");
    };
    Ok(Args {
        path,
        config,
        overlay,
        once,
    })
}

fn main() -> anyhow::Result<()> {
    let Args {
        path,
        config,
        overlay,
        once,
    } = parse_args()?;
    if once {
        zedit::preview::show_once_with(&path, &config)?;
        return Ok(());
    }
    let hash = std::fs::read(&path)
        .map(|bytes| blake3::hash(&bytes).to_hex().to_string())
        .unwrap_or_else(|_| "missing".into());
    let mut key = PreviewKey::new(path, hash);
    key.overlay = overlay;

    // The terminal query must happen before anything reads key events.
    let mut previewer = Previewer::new(&config)?;
    let mut terminal = ratatui::init();
    let result = run(&mut terminal, &mut previewer, &key);
    ratatui::restore();
    result
}

fn run(
    terminal: &mut ratatui::DefaultTerminal,
    previewer: &mut Previewer,
    key: &PreviewKey,
) -> anyhow::Result<()> {
    let mut dirty = true;
    loop {
        if previewer.poll() {
            dirty = true;
        }
        if dirty {
            terminal.draw(|frame| {
                let [title, pane] = Layout::vertical([Constraint::Length(1), Constraint::Min(3)])
                    .areas(frame.area());
                let font = previewer.picker().font_size();
                frame.render_widget(
                    Line::from(format!(
                        " zedit preview demo: {}, cell {}x{} px; q quits, Ctrl-L re-sends",
                        previewer.protocol_name(),
                        font.width,
                        font.height
                    )),
                    title,
                );
                let block = Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" {} ", key.file_name()));
                let inner = block.inner(pane);
                frame.render_widget(block, pane);
                previewer.request(Slot::After, key, inner);
                previewer.render(frame, Slot::After, inner);
            })?;
            dirty = false;
        }
        if !event::poll(Duration::from_millis(20))? {
            continue;
        }
        match event::read()? {
            Event::Key(k) if k.kind == KeyEventKind::Press => match k.code {
                KeyCode::Char('q') | KeyCode::Esc => return Ok(()),
                KeyCode::Char('l') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                    previewer.reset();
                    terminal.clear()?;
                    dirty = true;
                }
                _ => {}
            },
            Event::Resize(..) => dirty = true,
            _ => {}
        }
    }
}
