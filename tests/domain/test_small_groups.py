from domain.small_groups import MIN_GROUP, shown


def test_a_figure_from_fewer_than_five_people_is_withheld() -> None:
    assert MIN_GROUP == 5
    four = shown(4.5, 4)
    assert four.value is None and four.withheld
    five = shown(4.5, 5)
    assert five.value == 4.5 and not five.withheld


def test_no_people_is_withheld_too() -> None:
    assert shown(0, 0).withheld
