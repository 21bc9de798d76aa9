//! Persistent worker daemon and its client.
