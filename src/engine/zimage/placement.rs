//! A memory plan's choices (where the text encoder lives, whether the VAE decodes on tiles,
//! how many items a DiT call stacks) and the peak it expects per phase.

use super::memory::gib;

/// What one plan keeps where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Everything stays on the device.
    AllResident,
    /// The text encoder is loaded for a new prompt and released right after encoding.
    ReleaseTextEncoder,
    /// As above, and the VAE decodes on overlapping 512-pixel tiles.
    ReleaseTextEncoderTiledDecode,
    /// The text encoder runs on the CPU (only its caption features reach the device), and the
    /// VAE decodes on tiles.
    CpuTextEncoderTiledDecode,
}

impl Placement {
    pub fn releases_text_encoder(self) -> bool {
        matches!(
            self,
            Placement::ReleaseTextEncoder | Placement::ReleaseTextEncoderTiledDecode
        )
    }

    pub fn text_encoder_on_cpu(self) -> bool {
        self == Placement::CpuTextEncoderTiledDecode
    }

    pub fn tiled_decode(self) -> bool {
        matches!(
            self,
            Placement::ReleaseTextEncoderTiledDecode | Placement::CpuTextEncoderTiledDecode
        )
    }
}

/// A plan and the peak it expects, per phase.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub placement: Placement,
    /// The most items one DiT call stacks (CFG's cond and uncond make two).
    pub batch: usize,
    pub encode_peak: u64,
    pub denoise_peak: u64,
    pub decode_peak: u64,
}

impl Plan {
    pub fn peak(&self) -> u64 {
        self.encode_peak
            .max(self.denoise_peak)
            .max(self.decode_peak)
    }

    /// One line for the worker's log.
    pub fn describe(&self) -> String {
        let what = match self.placement {
            Placement::AllResident => "all components resident",
            Placement::ReleaseTextEncoder => "text encoder released after each encoding",
            Placement::ReleaseTextEncoderTiledDecode => {
                "text encoder released after each encoding, tiled VAE decode"
            }
            Placement::CpuTextEncoderTiledDecode => "text encoder on the CPU, tiled VAE decode",
        };
        let batch = if self.batch > 1 {
            "CFG's pair in one call"
        } else {
            "CFG's cond and uncond one after the other"
        };
        format!(
            "{what}, {batch}: expected peak {:.1} GiB (encode {:.1}, denoise {:.1}, decode {:.1})",
            gib(self.peak()),
            gib(self.encode_peak),
            gib(self.denoise_peak),
            gib(self.decode_peak)
        )
    }
}
