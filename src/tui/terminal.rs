//! The terminal side: raw mode, alternate screen, bracketed paste, a panic hook that restores
//! the terminal, and the event loop that draws only when dirty, at most once per ~10 ms.

use super::app::{App, AppEvent};
use ratatui::crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::prelude::CrosstermBackend;
use ratatui::Terminal;
use std::io::{self, Stdout};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Redraws closer together than this are merged.
const FRAME: Duration = Duration::from_millis(10);
/// How often the elapsed time of a running job refreshes.
const TICK: Duration = Duration::from_millis(200);

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Puts the terminal back the way the shell expects it. Safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        ratatui::crossterm::cursor::Show
    );
}

/// Enters the studio's terminal mode; a panic anywhere afterwards restores it first.
pub fn setup(mouse: bool) -> io::Result<Term> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
    enable_raw_mode()?;
    let mut out = io::stdout();
    execute!(out, EnterAlternateScreen, EnableBracketedPaste)?;
    if mouse {
        execute!(out, EnableMouseCapture)?;
    }
    Terminal::new(CrosstermBackend::new(out))
}

/// Reads terminal events on their own thread, so the loop can wait on one channel.
pub fn spawn_input(tx: std::sync::mpsc::Sender<AppEvent>) {
    let _ = std::thread::Builder::new()
        .name("zedit-input".into())
        .spawn(move || {
            while let Ok(ev) = event::read() {
                if tx.send(AppEvent::Term(ev)).is_err() {
                    break;
                }
            }
        });
}

/// Runs until the state asks to quit.
pub fn event_loop(term: &mut Term, app: &mut App, rx: &Receiver<AppEvent>) -> io::Result<()> {
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    while !app.state.quit {
        if dirty {
            // Let a burst of events land before drawing, but never wait past one frame.
            let wait = FRAME.saturating_sub(last_draw.elapsed());
            if !wait.is_zero() {
                if let Ok(ev) = rx.recv_timeout(wait) {
                    let batch = std::iter::once(ev).chain(rx.try_iter()).collect::<Vec<_>>();
                    app.handle_events(batch);
                    if app.state.quit {
                        break;
                    }
                }
            }
            if app.clear_requested {
                term.clear()?;
                app.clear_requested = false;
            }
            term.draw(|f| app.draw(f))?;
            dirty = false;
            last_draw = Instant::now();
        }
        match rx.recv_timeout(TICK) {
            Ok(ev) => {
                let batch = std::iter::once(ev).chain(rx.try_iter()).collect::<Vec<_>>();
                dirty |= app.handle_events(batch);
            }
            Err(RecvTimeoutError::Timeout) => {
                if app.state.run.is_some() {
                    dirty |= app.handle_events([AppEvent::Tick]);
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
        dirty |= app.pane.poll();
    }
    Ok(())
}
