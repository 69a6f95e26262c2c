"""A store name stored before imports refused line breaks still gives a one-line subject."""

from django.core.mail.message import forbid_multi_line_headers

from rma.emails import subject_for


def test_a_line_break_in_the_store_name_never_reaches_the_subject():
    subject = subject_for(
        "confirmation", store_name="The Model\r\nBcc: all@example.com\u2028Store", numbers="X"
    )

    assert subject == "The Model Bcc: all@example.com Store: Your return X is approved"
    forbid_multi_line_headers("Subject", subject, "utf-8")  # raises on CR or LF
