//! Building blocks of the diffusers `AutoencoderKL`: convolutions, ResNet blocks, the mid-block
//! attention, and the down/up samplers.

use crate::engine::zimage::transformer::load_linear;
use crate::engine::zimage::weights::Weights;
use crate::engine::EngineError;
use candle_core::{Module, Result as CResult, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, GroupNorm, Linear};

/// Group norms of the VAE all use this epsilon.
const GN_EPS: f64 = 1e-6;

/// A `cout`×`cin`×`k`×`k` convolution with bias; on cuDNN with the algorithm of
/// `ZEDIT_CUDNN_ALGO` (see [`super::cudnn`]).
pub fn conv(
    w: &Weights,
    name: &str,
    cin: usize,
    cout: usize,
    k: usize,
    stride: usize,
    padding: usize,
) -> Result<Conv2d, EngineError> {
    let weight = w.get(&format!("{name}.weight"), &[cout, cin, k, k])?;
    let bias = w.get(&format!("{name}.bias"), &[cout])?;
    let cfg = Conv2dConfig {
        padding,
        stride,
        cudnn_fwd_algo: super::cudnn::algo()?,
        ..Default::default()
    };
    Ok(Conv2d::new(weight, Some(bias), cfg))
}

pub fn group_norm(
    w: &Weights,
    name: &str,
    c: usize,
    groups: usize,
) -> Result<GroupNorm, EngineError> {
    let weight = w.get(&format!("{name}.weight"), &[c])?;
    let bias = w.get(&format!("{name}.bias"), &[c])?;
    GroupNorm::new(weight, bias, c, groups, GN_EPS)
        .map_err(|e| EngineError::Model(format!("{name}: {e}")))
}

pub struct Resnet {
    norm1: GroupNorm,
    conv1: Conv2d,
    norm2: GroupNorm,
    conv2: Conv2d,
    shortcut: Option<Conv2d>,
}

impl Resnet {
    pub fn load(
        w: &Weights,
        p: &str,
        cin: usize,
        cout: usize,
        groups: usize,
    ) -> Result<Self, EngineError> {
        Ok(Resnet {
            norm1: group_norm(w, &format!("{p}.norm1"), cin, groups)?,
            conv1: conv(w, &format!("{p}.conv1"), cin, cout, 3, 1, 1)?,
            norm2: group_norm(w, &format!("{p}.norm2"), cout, groups)?,
            conv2: conv(w, &format!("{p}.conv2"), cout, cout, 3, 1, 1)?,
            shortcut: if cin != cout {
                Some(conv(w, &format!("{p}.conv_shortcut"), cin, cout, 1, 1, 0)?)
            } else {
                None
            },
        })
    }

    pub fn forward(&self, x: &Tensor) -> CResult<Tensor> {
        let h = self
            .conv1
            .forward(&candle_nn::ops::silu(&self.norm1.forward(x)?)?)?;
        let h = self
            .conv2
            .forward(&candle_nn::ops::silu(&self.norm2.forward(&h)?)?)?;
        match &self.shortcut {
            Some(s) => s.forward(x)? + h,
            None => x + h,
        }
    }
}

/// Single-head spatial self-attention with a residual connection.
pub struct Attention {
    norm: GroupNorm,
    q: Linear,
    k: Linear,
    v: Linear,
    out: Linear,
    channels: usize,
}

impl Attention {
    pub fn load(w: &Weights, p: &str, c: usize, groups: usize) -> Result<Self, EngineError> {
        Ok(Attention {
            norm: group_norm(w, &format!("{p}.group_norm"), c, groups)?,
            q: load_linear(w, &format!("{p}.to_q"), c, c, true)?,
            k: load_linear(w, &format!("{p}.to_k"), c, c, true)?,
            v: load_linear(w, &format!("{p}.to_v"), c, c, true)?,
            out: load_linear(w, &format!("{p}.to_out.0"), c, c, true)?,
            channels: c,
        })
    }

    pub fn forward(&self, x: &Tensor) -> CResult<Tensor> {
        let (b, c, h, wd) = x.dims4()?;
        let t = self
            .norm
            .forward(x)?
            .reshape((b, c, h * wd))?
            .transpose(1, 2)?
            .contiguous()?;
        let (q, k, v) = (
            self.q.forward(&t)?,
            self.k.forward(&t)?,
            self.v.forward(&t)?,
        );
        let att = (q.matmul(&k.t()?)? / (self.channels as f64).sqrt())?;
        let att = candle_nn::ops::softmax_last_dim(&att)?;
        let o = self.out.forward(&att.matmul(&v)?)?;
        let o = o.transpose(1, 2)?.reshape((b, c, h, wd))?;
        x + o
    }
}

/// ResNet, attention, ResNet at the lowest resolution.
pub struct MidBlock {
    res0: Resnet,
    attn: Option<Attention>,
    res1: Resnet,
}

impl MidBlock {
    pub fn load(
        w: &Weights,
        p: &str,
        c: usize,
        groups: usize,
        attention: bool,
    ) -> Result<Self, EngineError> {
        Ok(MidBlock {
            res0: Resnet::load(w, &format!("{p}.resnets.0"), c, c, groups)?,
            attn: if attention {
                Some(Attention::load(w, &format!("{p}.attentions.0"), c, groups)?)
            } else {
                None
            },
            res1: Resnet::load(w, &format!("{p}.resnets.1"), c, c, groups)?,
        })
    }

    pub fn forward(&self, x: &Tensor) -> CResult<Tensor> {
        let mut x = self.res0.forward(x)?;
        if let Some(a) = &self.attn {
            x = a.forward(&x)?;
        }
        self.res1.forward(&x)
    }
}

/// Stride-2 convolution after padding right and bottom by one (diffusers' Downsample2D).
pub struct Downsample(pub Conv2d);

impl Downsample {
    pub fn forward(&self, x: &Tensor) -> CResult<Tensor> {
        let x = x.pad_with_zeros(3, 0, 1)?.pad_with_zeros(2, 0, 1)?;
        self.0.forward(&x)
    }
}

/// Nearest 2x upsampling, then a 3x3 convolution.
pub struct Upsample(pub Conv2d);

impl Upsample {
    pub fn forward(&self, x: &Tensor) -> CResult<Tensor> {
        let (_, _, h, w) = x.dims4()?;
        self.0.forward(&x.upsample_nearest2d(h * 2, w * 2)?)
    }
}
