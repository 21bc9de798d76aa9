//! Tests of target extraction.

use super::*;

#[test]
fn chinese_heads() {
    for (phrase, want) in [
        ("坐在沙发上的男人", "男人"),
        ("画面右侧的垃圾桶", "垃圾桶"),
        ("人物的裙子", "裙子"),
        ("背景里的路人", "路人"),
        ("一盆绿植", "绿植"),
        ("红色T恤", "T恤"),
        ("左上角的logo", "logo"),
        ("一只猫在沙发上", "猫"),
        ("穿旗袍的女人坐在沙发上", "女人"),
        ("墙面", "墙面"),
    ] {
        assert_eq!(head(phrase).as_deref(), Some(want), "{phrase}");
    }
}

#[test]
fn english_heads() {
    for (phrase, want) in [
        ("the man sitting on the sofa", "man"),
        ("the person on the right", "person"),
        ("a cup of coffee on the table", "cup of coffee"),
        ("the red sofa", "red sofa"),
        ("the trash can", "trash can"),
        ("the colour of the car", "car"),
        ("a bench in its place", "bench"),
    ] {
        assert_eq!(head(phrase).as_deref(), Some(want), "{phrase}");
    }
    assert_eq!(head("the"), None);
}

#[test]
fn beings_and_whole_image() {
    assert!(is_being("男人") && is_being("小狗") && is_being("dogs") && is_being("old man"));
    assert!(!is_being("沙发") && !is_being("sofa") && !is_being("manhole"));
    assert!(!is_being("复古皮质三人座") && is_being("人物") && is_being("猫咪"));
    assert!(is_whole_image("照片") && is_whole_image("全部产品图") && is_whole_image("it"));
    assert!(is_whole_image("the whole scene a little") && !is_whole_image("天空"));
    assert!(!is_whole_image("the sky"));
}

#[test]
fn locations_split_into_place_and_kept_object() {
    let zh = locate("坐在沙发上的男人");
    assert_eq!(
        (zh.core.as_str(), zh.place.as_deref(), zh.keep.as_deref()),
        ("男人", Some("坐在沙发上"), Some("沙发"))
    );
    let en = locate("the man sitting on the sofa");
    assert_eq!(
        (en.core.as_str(), en.place.as_deref(), en.keep.as_deref()),
        ("the man", Some("sitting on the sofa"), Some("the sofa"))
    );
    assert_eq!(locate("the person on the right").keep, None);
    assert_eq!(locate("左侧的女人").place, None);
}
