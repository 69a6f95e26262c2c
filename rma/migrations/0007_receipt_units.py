"""Per-unit receipt: the units of a line may arrive in different conditions.

Lines received before this migration get one group with the line's condition and
disposition, so every received line reads the same way.
"""

from django.db import migrations, models


def one_group_per_received_line(apps, schema_editor):
    RmaLine = apps.get_model("rma", "RmaLine")
    lines = RmaLine.objects.filter(received_quantity__gt=0).exclude(condition="")
    changed = []
    for line in lines.iterator():
        line.receipt_units = [
            {
                "quantity": line.received_quantity,
                "condition": line.condition,
                "disposition": line.disposition,
            }
        ]
        changed.append(line)
    RmaLine.objects.bulk_update(changed, ["receipt_units"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("rma", "0006_staff_store_access"),
    ]

    operations = [
        migrations.AddField(
            model_name="rmaline",
            name="receipt_units",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(one_group_per_received_line, migrations.RunPython.noop),
    ]
