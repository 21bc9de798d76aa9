//! The keymap: embedded defaults merged with the user's `keymap.toml`, parsed once into typed
//! commands per context; the help screen and the palette are generated from its descriptions.

use super::action::Command;
use super::key::Key;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;

/// The embedded default keymap.
pub const DEFAULT_KEYMAP: &str = include_str!("keymap-default.toml");

/// Where a binding applies. Keys are looked up in the focused context first, then `global`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    Global,
    Sessions,
    Session,
    Input,
    Plan,
    Mask,
    Loras,
    Confirm,
    Help,
}

impl Context {
    pub const ALL: [Context; 9] = [
        Context::Global,
        Context::Sessions,
        Context::Session,
        Context::Input,
        Context::Plan,
        Context::Mask,
        Context::Loras,
        Context::Confirm,
        Context::Help,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::Sessions => "sessions",
            Context::Session => "session",
            Context::Input => "input",
            Context::Plan => "plan",
            Context::Mask => "mask",
            Context::Loras => "loras",
            Context::Confirm => "confirm",
            Context::Help => "help",
        }
    }
}

/// One `{ on, run, desc }` entry as written in TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBinding {
    on: OneOrMany,
    run: String,
    #[serde(default)]
    desc: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeymap {
    #[serde(default)]
    global: Vec<RawBinding>,
    #[serde(default)]
    sessions: Vec<RawBinding>,
    #[serde(default)]
    session: Vec<RawBinding>,
    #[serde(default)]
    input: Vec<RawBinding>,
    #[serde(default)]
    plan: Vec<RawBinding>,
    #[serde(default)]
    mask: Vec<RawBinding>,
    #[serde(default)]
    loras: Vec<RawBinding>,
    #[serde(default)]
    confirm: Vec<RawBinding>,
    #[serde(default)]
    help: Vec<RawBinding>,
}

impl RawKeymap {
    fn section(&self, c: Context) -> &[RawBinding] {
        match c {
            Context::Global => &self.global,
            Context::Sessions => &self.sessions,
            Context::Session => &self.session,
            Context::Input => &self.input,
            Context::Plan => &self.plan,
            Context::Mask => &self.mask,
            Context::Loras => &self.loras,
            Context::Confirm => &self.confirm,
            Context::Help => &self.help,
        }
    }
}

/// A parsed binding: alternative keys for one command.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub keys: Vec<Key>,
    pub command: Command,
    pub desc: String,
}

#[derive(Debug, thiserror::Error)]
pub enum KeymapError {
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    #[error("{file}: [{context}] entry {index}: {message}")]
    Entry {
        file: String,
        context: &'static str,
        index: usize,
        message: String,
    },
}

/// Bindings per context, with a lookup table built once.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: HashMap<Context, Vec<Binding>>,
    table: HashMap<(Context, Key), Command>,
}

impl Keymap {
    /// The embedded defaults alone.
    pub fn defaults() -> Keymap {
        match Keymap::parse(DEFAULT_KEYMAP, "keymap-default.toml") {
            Ok(k) => k,
            // The embedded file is checked by a test; an empty keymap still lets Ctrl-C quit.
            Err(_) => Keymap::from_bindings(HashMap::new()),
        }
    }

    /// Parses one keymap file's text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Keymap, KeymapError> {
        Ok(Keymap::from_bindings(parse_bindings(text, file)?))
    }

    /// The defaults with the user's file merged over them: a user binding replaces any default
    /// on the same key in the same context.
    pub fn with_user(text: &str, file: &str) -> Result<Keymap, KeymapError> {
        let user = parse_bindings(text, file)?;
        let mut merged = Keymap::defaults().bindings;
        for (ctx, ubs) in user {
            let list = merged.entry(ctx).or_default();
            for ub in &ubs {
                for b in list.iter_mut() {
                    b.keys.retain(|k| !ub.keys.contains(k));
                }
            }
            list.retain(|b| !b.keys.is_empty());
            let mut combined = ubs;
            combined.append(list);
            *list = combined;
        }
        Ok(Keymap::from_bindings(merged))
    }

    /// Loads `path` over the defaults when it exists; on error returns the defaults and the error.
    pub fn load(path: &Path) -> (Keymap, Option<KeymapError>) {
        let Ok(text) = std::fs::read_to_string(path) else {
            return (Keymap::defaults(), None);
        };
        match Keymap::with_user(&text, &path.display().to_string()) {
            Ok(k) => (k, None),
            Err(e) => (Keymap::defaults(), Some(e)),
        }
    }

    fn from_bindings(bindings: HashMap<Context, Vec<Binding>>) -> Keymap {
        let mut table = HashMap::new();
        for (ctx, list) in &bindings {
            // The first binding of a key wins, so user entries (listed first) override.
            for b in list.iter().rev() {
                for k in &b.keys {
                    table.insert((*ctx, *k), b.command);
                }
            }
        }
        Keymap { bindings, table }
    }

    /// The command for `key` in `ctx`, falling back to `global` unless the context is modal.
    pub fn lookup(&self, ctx: Context, key: Key) -> Option<Command> {
        self.table.get(&(ctx, key)).copied().or_else(|| {
            let modal = matches!(ctx, Context::Input | Context::Confirm);
            if modal {
                None
            } else {
                self.table.get(&(Context::Global, key)).copied()
            }
        })
    }

    pub fn bindings(&self, ctx: Context) -> &[Binding] {
        self.bindings.get(&ctx).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Help lines for the screen: `(context, keys, description)` in keymap order.
    pub fn help(&self) -> Vec<HelpLine> {
        Context::ALL
            .iter()
            .flat_map(|c| {
                self.bindings(*c).iter().map(move |b| HelpLine {
                    context: c.as_str(),
                    keys: b
                        .keys
                        .iter()
                        .map(|k| k.to_string())
                        .collect::<Vec<_>>()
                        .join(" "),
                    command: b.command,
                    desc: b.desc.clone(),
                })
            })
            .collect()
    }
}

/// One line of the generated help.
#[derive(Debug, Clone, PartialEq)]
pub struct HelpLine {
    pub context: &'static str,
    pub keys: String,
    pub command: Command,
    pub desc: String,
}

fn parse_bindings(text: &str, file: &str) -> Result<HashMap<Context, Vec<Binding>>, KeymapError> {
    let raw: RawKeymap = toml::from_str(text).map_err(|e| KeymapError::Syntax {
        file: file.into(),
        message: e
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    })?;
    let mut out = HashMap::new();
    for ctx in Context::ALL {
        let mut list = Vec::new();
        for (i, rb) in raw.section(ctx).iter().enumerate() {
            let entry = |message: String| KeymapError::Entry {
                file: file.into(),
                context: ctx.as_str(),
                index: i + 1,
                message,
            };
            let command: Command = rb
                .run
                .parse()
                .map_err(|e: super::action::UnknownCommand| entry(format!("run: {e}")))?;
            let keys = match &rb.on {
                OneOrMany::One(k) => vec![k.clone()],
                OneOrMany::Many(ks) => ks.clone(),
            };
            let keys = keys
                .iter()
                .map(|k| k.parse::<Key>().map_err(|e| entry(format!("on: {e}"))))
                .collect::<Result<Vec<_>, _>>()?;
            list.push(Binding {
                keys,
                command,
                desc: rb.desc.clone(),
            });
        }
        out.insert(ctx, list);
    }
    Ok(out)
}
