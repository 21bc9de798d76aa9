//! Tests of the segmentation front: bad prompts named by value, and points kept in place when the image is scaled.

use super::*;

fn pt(x: u32, y: u32, positive: bool) -> MaskPoint {
    MaskPoint { x, y, positive }
}

#[test]
fn bad_prompts_name_the_value() {
    let cases: Vec<(PromptSpec, (u32, u32), &str)> = vec![
        (
            PromptSpec {
                points: vec![pt(200, 5, true)],
                bbox: None,
            },
            (100, 80),
            "--point 200,5",
        ),
        (
            PromptSpec {
                points: vec![pt(5, 5, true), pt(5, 90, false)],
                bbox: None,
            },
            (100, 80),
            "--neg 5,90",
        ),
        (
            PromptSpec {
                points: vec![],
                bbox: Some(Rect {
                    x: 3,
                    y: 4,
                    w: 0,
                    h: 9,
                }),
            },
            (100, 80),
            "--box 3,4,0,9 is empty",
        ),
        (
            PromptSpec {
                points: vec![],
                bbox: Some(Rect {
                    x: 90,
                    y: 4,
                    w: 20,
                    h: 9,
                }),
            },
            (100, 80),
            "--box 90,4,20,9 reaches outside",
        ),
        (
            PromptSpec {
                points: vec![pt(1, 1, true)],
                bbox: None,
            },
            (10, 80),
            "10x80",
        ),
        (PromptSpec::default(), (100, 80), "no prompt"),
        (
            PromptSpec {
                points: vec![pt(5, 5, false)],
                bbox: None,
            },
            (100, 80),
            "only negative",
        ),
    ];
    for (p, size, want) in cases {
        let e = p.check(size).unwrap_err().to_string();
        assert!(e.contains(want), "{e:?} should contain {want:?}");
    }
    let ok = PromptSpec {
        points: vec![pt(99, 79, true)],
        bbox: Some(Rect {
            x: 0,
            y: 0,
            w: 100,
            h: 80,
        }),
    };
    assert!(ok.check((100, 80)).is_ok());
}

#[test]
fn scaling_keeps_points_in_place() {
    let p = PromptSpec {
        points: vec![pt(50, 20, true), pt(99, 79, false)],
        bbox: Some(Rect {
            x: 10,
            y: 10,
            w: 40,
            h: 20,
        }),
    };
    let s = p.scaled((100, 80), (200, 160));
    assert_eq!(s.points[0], pt(101, 41, true));
    assert_eq!(s.points[1], pt(199, 159, false));
    assert_eq!(
        s.bbox,
        Some(Rect {
            x: 20,
            y: 20,
            w: 80,
            h: 40
        })
    );
    assert!(s.check((200, 160)).is_ok());
    assert_eq!(p.scaled((100, 80), (100, 80)), p);
}
