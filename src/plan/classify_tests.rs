//! Tests of clause classification.

use super::*;

fn op(clause: &str) -> Option<Op> {
    match read(clause).kind {
        Kind::Step(op) => Some(op),
        _ => None,
    }
}

#[test]
fn classifies_each_op_in_both_languages() {
    let table = [
        ("删除画面右侧的垃圾桶", Op::Delete),
        ("把背景里的电线杆去掉", Op::Delete),
        ("Get rid of the car", Op::Delete),
        ("在窗台上放一盆绿植", Op::Add),
        ("Add a cup of coffee on the table", Op::Add),
        ("给男人戴上一顶帽子", Op::Add),
        ("把红色T恤换成磨砂黑色皮夹克", Op::Replace),
        ("Turn the dog into a cat", Op::Replace),
        ("把天空改成傍晚火烧云的效果", Op::Replace),
        ("把墙面刷成浅绿色", Op::Recolor),
        ("Make the shirt black", Op::Recolor),
        ("让天空变成粉紫色", Op::Recolor),
        ("全部产品图调成冷白光", Op::Relight),
        ("增加午后阳光效果", Op::Relight),
        ("把灯关掉", Op::Relight),
        ("Make the photo cooler and a bit darker", Op::Relight),
        ("把照片改成日系胶片风格", Op::Restyle),
        ("Make it look like a pencil sketch", Op::Restyle),
        ("让她笑一笑", Op::Edit),
    ];
    for (clause, want) in table {
        assert_eq!(op(clause), Some(want), "{clause}");
    }
}

#[test]
fn slots_hold_subject_and_new_value() {
    let r = read("把坐在沙发上的男人换成穿旗袍的女人");
    assert_eq!(r.subject.as_deref(), Some("坐在沙发上的男人"));
    assert_eq!(r.value.as_deref(), Some("穿旗袍的女人"));
    let r = read("Replace the red sofa with a grey fabric one");
    assert_eq!(r.subject.as_deref(), Some("the red sofa"));
    assert_eq!(r.value.as_deref(), Some("a grey fabric one"));
    let r = read("用一盆仙人掌替换桌上的台灯");
    assert_eq!(r.subject.as_deref(), Some("桌上的台灯"));
    assert_eq!(r.value.as_deref(), Some("一盆仙人掌"));
}

#[test]
fn descriptions_and_completions_are_not_steps() {
    assert_eq!(read("面带微笑").kind, Kind::Attribute);
    assert_eq!(read("深棕色").kind, Kind::Attribute);
    assert_eq!(read("dark brown").kind, Kind::Attribute);
    assert_eq!(read("补全地面").kind, Kind::Support);
    assert_eq!(read("fill in the background").kind, Kind::Support);
    assert_eq!(op("窗外阳光洒入"), Some(Op::Relight));
    assert!(read("窗外阳光洒入").verbless);
}

#[test]
fn verb_starts_and_back_references() {
    assert!(starts_with_verb("添加一只猫") && starts_with_verb("整体提亮"));
    assert!(starts_with_verb("add a bench") && !starts_with_verb("a bit darker"));
    assert!(!starts_with_verb("white cat"));
    assert!(refers_back("让它趴在地毯上") && refers_back("have her smile"));
    assert!(!refers_back("让天空变蓝"));
}
