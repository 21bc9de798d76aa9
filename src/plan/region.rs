//! Region extraction: where in the frame a clause points ("左上角", "on the right",
//! "in the background"), as one of the named regions.

use super::lexicon::find_word;
use crate::core::Region;

#[rustfmt::skip]
const CORNERS: &[(&str, Region)] = &[
    ("左上", Region::TopLeft), ("右上", Region::TopRight),
    ("左下", Region::BottomLeft), ("右下", Region::BottomRight),
    ("top left", Region::TopLeft), ("top-left", Region::TopLeft),
    ("upper left", Region::TopLeft), ("upper-left", Region::TopLeft),
    ("top right", Region::TopRight), ("top-right", Region::TopRight),
    ("upper right", Region::TopRight), ("upper-right", Region::TopRight),
    ("bottom left", Region::BottomLeft), ("bottom-left", Region::BottomLeft),
    ("lower left", Region::BottomLeft), ("lower-left", Region::BottomLeft),
    ("bottom right", Region::BottomRight), ("bottom-right", Region::BottomRight),
    ("lower right", Region::BottomRight), ("lower-right", Region::BottomRight),
];

/// Sides of the frame. Bare "上"/"下"/"左" are not here: "沙发上", "左手" are not regions.
#[rustfmt::skip]
const SIDES: &[(&str, Region)] = &[
    ("左侧", Region::Left), ("左边", Region::Left), ("左面", Region::Left), ("左方", Region::Left),
    ("左半", Region::Left), ("靠左", Region::Left), ("最左", Region::Left), ("左部", Region::Left),
    ("右侧", Region::Right), ("右边", Region::Right), ("右面", Region::Right),
    ("右方", Region::Right), ("右半", Region::Right), ("靠右", Region::Right),
    ("最右", Region::Right), ("右部", Region::Right),
    ("顶部", Region::Top), ("上方", Region::Top), ("上部", Region::Top), ("顶端", Region::Top),
    ("上半", Region::Top), ("画面上面", Region::Top),
    ("底部", Region::Bottom), ("下方", Region::Bottom), ("下部", Region::Bottom),
    ("底端", Region::Bottom), ("下半", Region::Bottom), ("画面下面", Region::Bottom),
    ("中间", Region::Center), ("中央", Region::Center), ("中心", Region::Center),
    ("正中", Region::Center), ("居中", Region::Center),
    ("on the left", Region::Left), ("to the left", Region::Left), ("at the left", Region::Left),
    ("left side", Region::Left), ("left-hand", Region::Left), ("left half", Region::Left),
    ("leftmost", Region::Left), ("far left", Region::Left), ("left part", Region::Left),
    ("left edge", Region::Left), ("the left", Region::Left),
    ("on the right", Region::Right), ("to the right", Region::Right),
    ("at the right", Region::Right), ("right side", Region::Right),
    ("right-hand", Region::Right), ("right half", Region::Right), ("rightmost", Region::Right),
    ("far right", Region::Right), ("right part", Region::Right), ("right edge", Region::Right),
    ("the right", Region::Right),
    ("at the top", Region::Top), ("top half", Region::Top), ("top part", Region::Top),
    ("top edge", Region::Top), ("upper half", Region::Top), ("upper part", Region::Top),
    ("top area", Region::Top), ("top of the image", Region::Top),
    ("top of the photo", Region::Top), ("top of the picture", Region::Top),
    ("top of the frame", Region::Top), ("along the top", Region::Top),
    ("at the bottom", Region::Bottom), ("bottom half", Region::Bottom),
    ("bottom part", Region::Bottom), ("bottom edge", Region::Bottom),
    ("lower half", Region::Bottom), ("lower part", Region::Bottom),
    ("bottom area", Region::Bottom), ("bottom of the image", Region::Bottom),
    ("bottom of the photo", Region::Bottom), ("bottom of the picture", Region::Bottom),
    ("bottom of the frame", Region::Bottom), ("along the bottom", Region::Bottom),
    ("in the center", Region::Center), ("in the centre", Region::Center),
    ("in the middle", Region::Center), ("center of", Region::Center),
    ("centre of", Region::Center), ("middle of the", Region::Center),
    ("centered", Region::Center), ("centred", Region::Center),
];

const BACKGROUND: &[&str] = &[
    "背景",
    "远处",
    "远景",
    "后方",
    "background",
    "in the back",
    "in the distance",
    "far away",
    "backdrop",
];

/// The region a clause points at, if any. Corners win over sides, and a horizontal side with
/// a vertical one makes a corner ("左边上方"); any side wins over "background", since "the
/// tree on the left of the background" is on the left.
pub fn find(clause: &str) -> Option<Region> {
    let lower = clause.to_ascii_lowercase();
    let first = |table: &[(&str, Region)]| {
        table
            .iter()
            .filter_map(|(w, r)| find_word(&lower, w).map(|at| (at, *r)))
            .min_by_key(|(at, _)| *at)
            .map(|(_, r)| r)
    };
    if let Some(corner) = first(CORNERS) {
        return Some(corner);
    }
    let sides: Vec<Region> = SIDES
        .iter()
        .filter(|(w, _)| find_word(&lower, w).is_some())
        .map(|(_, r)| *r)
        .collect();
    let has = |r: Region| sides.contains(&r);
    let vertical = [Region::Top, Region::Bottom].into_iter().find(|r| has(*r));
    let horizontal = [Region::Left, Region::Right].into_iter().find(|r| has(*r));
    match (vertical, horizontal) {
        (Some(Region::Top), Some(Region::Left)) => return Some(Region::TopLeft),
        (Some(Region::Top), Some(Region::Right)) => return Some(Region::TopRight),
        (Some(Region::Bottom), Some(Region::Left)) => return Some(Region::BottomLeft),
        (Some(Region::Bottom), Some(Region::Right)) => return Some(Region::BottomRight),
        _ => {}
    }
    if let Some(side) = first(SIDES) {
        return Some(side);
    }
    BACKGROUND
        .iter()
        .any(|w| find_word(&lower, w).is_some())
        .then_some(Region::Background)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_named_regions_in_both_languages() {
        for (clause, want) in [
            ("删除左上角的logo", Some(Region::TopLeft)),
            ("删除画面右侧的垃圾桶", Some(Region::Right)),
            ("去掉背景里的路人", Some(Region::Background)),
            ("画面底部加一行字", Some(Region::Bottom)),
            ("在画面中间放一只猫", Some(Region::Center)),
            ("左边上方的鸟", Some(Region::TopLeft)),
            (
                "Remove the watermark in the bottom left corner",
                Some(Region::BottomLeft),
            ),
            ("Remove the person on the right", Some(Region::Right)),
            ("Change the background to white", Some(Region::Background)),
            ("add a moon at the top", Some(Region::Top)),
            (
                "put a vase in the middle of the table",
                Some(Region::Center),
            ),
        ] {
            assert_eq!(find(clause), want, "{clause}");
        }
    }

    #[test]
    fn ignores_look_alikes() {
        for clause in [
            "坐在沙发上的男人",
            "左手拿着的杯子",
            "make it brighter",
            "put a vase on top of the table",
            "把人物的裙子改成蓝色",
        ] {
            assert_eq!(find(clause), None, "{clause}");
        }
    }
}
