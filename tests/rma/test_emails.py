"""Emails keep the store's brand readable."""

import pytest

from rma.emails import DEFAULT_BRAND_COLOUR, email_colours
from tests.factories import StoreFactory


@pytest.mark.parametrize(
    ("brand", "expected"),
    [
        (
            "#ffd500",
            {
                "brand_colour": "#ffd500",
                "brand_text": "#000000",
                "link_colour": DEFAULT_BRAND_COLOUR,
            },
        ),
        ("#123456", {"brand_colour": "#123456", "brand_text": "#ffffff", "link_colour": "#123456"}),
        (
            "",
            {
                "brand_colour": DEFAULT_BRAND_COLOUR,
                "brand_text": "#ffffff",
                "link_colour": DEFAULT_BRAND_COLOUR,
            },
        ),
        (
            "red",
            {
                "brand_colour": DEFAULT_BRAND_COLOUR,
                "brand_text": "#ffffff",
                "link_colour": DEFAULT_BRAND_COLOUR,
            },
        ),
    ],
)
def test_brand_colours_keep_text_readable(brand, expected):
    assert email_colours(StoreFactory.build(brand_colour=brand)) == expected
