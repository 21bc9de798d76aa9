//! A second, plain walk over a GGUF header that candle's reader refused, to say where it went
//! wrong: the tensor with a type this build does not know, or the point the file ends.

use std::io::Read;
use std::path::Path;

/// Types candle reads (ggml ids).
const KNOWN_TYPES: &[(u32, &str)] = &[
    (0, "F32"),
    (1, "F16"),
    (2, "Q4_0"),
    (3, "Q4_1"),
    (6, "Q5_0"),
    (7, "Q5_1"),
    (8, "Q8_0"),
    (9, "Q8_1"),
    (10, "Q2_K"),
    (11, "Q3_K"),
    (12, "Q4_K"),
    (13, "Q5_K"),
    (14, "Q6_K"),
    (15, "Q8_K"),
    (30, "BF16"),
];

struct Cursor {
    bytes: Vec<u8>,
    at: usize,
    wide: bool,
}

impl Cursor {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        if self.at + n > self.bytes.len() {
            return Err(format!(
                "the file ends at byte {} inside the header",
                self.bytes.len()
            ));
        }
        self.at += n;
        Ok(&self.bytes[self.at - n..self.at])
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, String> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    fn length(&mut self) -> Result<usize, String> {
        let n = if self.wide {
            self.u64()?
        } else {
            self.u32()? as u64
        };
        usize::try_from(n).map_err(|_| format!("a length of {n} bytes"))
    }
    fn string(&mut self) -> Result<String, String> {
        let n = self.length()?;
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }
    fn skip_value(&mut self, kind: u32, depth: u32) -> Result<(), String> {
        let size = match kind {
            0 | 1 | 7 => 1,
            2 | 3 => 2,
            4..=6 => 4,
            10..=12 => 8,
            8 => {
                self.string()?;
                return Ok(());
            }
            9 if depth < 4 => {
                let inner = self.u32()?;
                let n = self.length()?;
                for _ in 0..n {
                    self.skip_value(inner, depth + 1)?;
                }
                return Ok(());
            }
            other => return Err(format!("a metadata value of unknown kind {other}")),
        };
        self.take(size).map(|_| ())
    }
}

/// What is wrong with the header of `path`, when a plain walk can tell; None otherwise.
pub fn explain(path: &Path) -> Option<String> {
    let mut bytes = Vec::new();
    // Headers are small; 64 MiB covers any real one without reading the tensor data.
    std::fs::File::open(path)
        .ok()?
        .take(64 << 20)
        .read_to_end(&mut bytes)
        .ok()?;
    let mut c = Cursor {
        bytes,
        at: 0,
        wide: true,
    };
    let walk = |c: &mut Cursor| -> Result<Option<String>, String> {
        if c.take(4)? != b"GGUF" {
            return Ok(Some("it does not start with the GGUF magic".into()));
        }
        let version = c.u32()?;
        c.wide = version >= 2;
        let tensors = c.length()?;
        let kvs = c.length()?;
        for _ in 0..kvs {
            c.string()?;
            let kind = c.u32()?;
            c.skip_value(kind, 0)?;
        }
        for _ in 0..tensors {
            let name = c.string()?;
            let n = c.u32()?;
            for _ in 0..n.min(8) {
                c.length()?;
            }
            let t = c.u32()?;
            c.u64()?;
            if !KNOWN_TYPES.iter().any(|(id, _)| *id == t) {
                let names: Vec<&str> = KNOWN_TYPES.iter().map(|(_, n)| *n).collect();
                return Ok(Some(format!(
                    "tensor '{name}' has ggml type {t}, which zedit cannot read (it reads {})",
                    names.join(", ")
                )));
            }
        }
        Ok(None)
    };
    match walk(&mut c) {
        Ok(found) => found,
        Err(why) => Some(why),
    }
}
