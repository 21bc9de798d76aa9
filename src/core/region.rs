//! Where in the image a step applies: a named part of the frame or an explicit rectangle.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A rectangle in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// A part of the frame, named the way users speak of it, or a pixel rectangle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Region {
    Left,
    Right,
    Top,
    Bottom,
    Center,
    TopLeft,
    TopRight,
    BottomLeft,
    BottomRight,
    Background,
    Rect(Rect),
}

const NAMED: [(Region, &str); 10] = [
    (Region::Left, "left"),
    (Region::Right, "right"),
    (Region::Top, "top"),
    (Region::Bottom, "bottom"),
    (Region::Center, "center"),
    (Region::TopLeft, "top-left"),
    (Region::TopRight, "top-right"),
    (Region::BottomLeft, "bottom-left"),
    (Region::BottomRight, "bottom-right"),
    (Region::Background, "background"),
];

impl Region {
    /// The named regions, in the order help texts list them.
    pub fn named() -> impl Iterator<Item = Region> {
        NAMED.iter().map(|(r, _)| *r)
    }

    /// The rectangle this region covers in a `width` x `height` image. `Background` covers the
    /// whole frame (engines treat it as "everything but the subject"); explicit rectangles are
    /// clipped to the image.
    pub fn rect_in(self, width: u32, height: u32) -> Rect {
        let (w2, h2) = (width / 2, height / 2);
        let (w3, h3) = (width / 3, height / 3);
        let r = |x, y, w, h| Rect { x, y, w, h };
        match self {
            Region::Left => r(0, 0, w2, height),
            Region::Right => r(width - w2, 0, w2, height),
            Region::Top => r(0, 0, width, h2),
            Region::Bottom => r(0, height - h2, width, h2),
            Region::Center => r(w3, h3, width - 2 * w3, height - 2 * h3),
            Region::TopLeft => r(0, 0, w2, h2),
            Region::TopRight => r(width - w2, 0, w2, h2),
            Region::BottomLeft => r(0, height - h2, w2, h2),
            Region::BottomRight => r(width - w2, height - h2, w2, h2),
            Region::Background => r(0, 0, width, height),
            Region::Rect(rect) => {
                let x = rect.x.min(width);
                let y = rect.y.min(height);
                r(x, y, rect.w.min(width - x), rect.h.min(height - y))
            }
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Region::Rect(r) => write!(f, "{},{},{},{}", r.x, r.y, r.w, r.h),
            named => {
                let name = NAMED.iter().find(|(r, _)| r == named).map(|(_, n)| *n);
                f.write_str(name.unwrap_or("?"))
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown region '{0}': expected left, right, top, bottom, center, top-left, top-right, \
     bottom-left, bottom-right, background, or x,y,w,h in pixels"
)]
pub struct ParseRegionError(pub String);

impl FromStr for Region {
    type Err = ParseRegionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase().replace('_', "-");
        if let Some((r, _)) = NAMED.iter().find(|(_, n)| *n == t) {
            return Ok(*r);
        }
        if t == "centre" {
            return Ok(Region::Center);
        }
        let nums: Vec<u32> = t
            .split(',')
            .map(|p| p.trim().parse::<u32>())
            .collect::<Result<_, _>>()
            .map_err(|_| ParseRegionError(s.to_string()))?;
        match nums[..] {
            [x, y, w, h] if w > 0 && h > 0 => Ok(Region::Rect(Rect { x, y, w, h })),
            _ => Err(ParseRegionError(s.to_string())),
        }
    }
}

impl TryFrom<String> for Region {
    type Error = ParseRegionError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Region> for String {
    fn from(r: Region) -> String {
        r.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_names_and_rectangles() {
        for r in Region::named() {
            assert_eq!(r.to_string().parse::<Region>(), Ok(r));
        }
        let rect: Region = "10, 20,30,40".parse().unwrap();
        assert_eq!(rect.to_string(), "10,20,30,40");
        assert!("10,20,0,5".parse::<Region>().is_err());
        assert!("middle".parse::<Region>().is_err());
        assert!("1,2,3".parse::<Region>().is_err());
    }

    #[test]
    fn rectangles_cover_the_named_part_and_clip() {
        assert_eq!(
            Region::Right.rect_in(101, 50),
            Rect {
                x: 51,
                y: 0,
                w: 50,
                h: 50
            }
        );
        assert_eq!(
            Region::BottomLeft.rect_in(100, 80),
            Rect {
                x: 0,
                y: 40,
                w: 50,
                h: 40
            }
        );
        let big = Region::Rect(Rect {
            x: 90,
            y: 0,
            w: 50,
            h: 500,
        });
        assert_eq!(
            big.rect_in(100, 100),
            Rect {
                x: 90,
                y: 0,
                w: 10,
                h: 100
            }
        );
    }
}
