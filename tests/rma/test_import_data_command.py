"""`manage.py import_data FILE` and `-` (stdin): summary on success, every error on failure."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from rma.models import Order, OrderLine, Store
from tests.factories import import_order_data, spec_import_document

pytestmark = pytest.mark.django_db


def run(*args, **kwargs) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_data", *args, stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


def test_imports_a_file_and_prints_a_summary(tmp_path):
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(spec_import_document()))

    out, _ = run(str(path))

    assert "orders: 1 created, 0 updated, 0 unchanged" in out
    assert "lines: 1 created" in out
    assert Order.objects.get().lines.get().item_id == "21-RITOCS004b"


def test_reads_standard_input_with_a_dash():
    out, _ = run("-", stdin=io.StringIO(json.dumps(spec_import_document())))

    assert "stores: 1 created" in out
    assert Store.objects.get().code == "TMSUS"


def test_decimals_written_as_json_numbers_are_exact():
    text = json.dumps(spec_import_document()).replace('"39.99"', "39.99")
    run("-", stdin=io.StringIO(text))

    assert str(OrderLine.objects.get().unit_price) == "39.99"


def test_prints_every_error_changes_nothing_and_fails():
    document = spec_import_document()
    document["orders"].append(import_order_data("2", status="LOST"))
    document["orders"].append(import_order_data("3", store="NOPE"))
    err = io.StringIO()

    with pytest.raises(CommandError, match=r"2 error\(s\) in standard input; nothing was imported"):
        call_command("import_data", "-", stdin=io.StringIO(json.dumps(document)), stderr=err)

    assert err.getvalue().splitlines() == [
        "orders[1].status: 'LOST' is not one of PLACED, PROCESSING, SHIPPED, DELIVERED,"
        " CANCELLED, CLOSED (order TMSUS 2)",
        'orders[2].store: unknown store "NOPE" (order NOPE 3)',
    ]
    assert not Store.objects.exists()
    assert not Order.objects.exists()


def test_invalid_json_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"orders": [')

    with pytest.raises(CommandError, match=r"broken\.json is not valid JSON"):
        run(str(path))


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match=r"cannot read .*missing\.json: No such file"):
        run(str(tmp_path / "missing.json"))


def test_the_command_exits_non_zero_from_the_shell(tmp_path):
    # CommandError becomes exit status 1 outside call_command.
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"orders": [import_order_data(store="NOPE")]}))
    with pytest.raises(SystemExit) as exited:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["manage.py", "import_data", str(path)])
    assert exited.value.code == 1
