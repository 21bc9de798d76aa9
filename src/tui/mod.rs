//! The ratatui studio.
