//! Tests of sentence forms.

use super::*;

fn canon(text: &str) -> String {
    canonical(text).text
}

#[test]
fn descriptions_become_orders() {
    assert_eq!(
        canon("What if the man had a beard"),
        "add a beard to the man"
    );
    assert_eq!(
        canon("There are no people on the beach"),
        "remove people on the beach"
    );
    assert_eq!(canon("The dress should be yellow"), "make The dress yellow");
    assert_eq!(
        canon("The walls need to be painted yellow"),
        "paint The walls yellow"
    );
    assert_eq!(canon("Take the car out"), "remove the car");
    assert_eq!(
        canon("Get the bird out of the picture"),
        "remove the bird from the picture"
    );
    assert_eq!(
        canon("Use a lantern instead of the lamp"),
        "replace the lamp with a lantern"
    );
    assert_eq!(
        canon("It's for a real estate listing"),
        "It's for a real estate listing"
    );
    assert_eq!(canon("天空是粉色的"), "把天空调成粉色");
    assert_eq!(canon("草地上没有人"), "删除草地上的人");
    assert_eq!(canon("如果男人有胡子会怎样"), "给男人添加胡子");
}
