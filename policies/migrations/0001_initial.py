import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("rma", "0005_radial_and_money_fields"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PolicyVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveIntegerField()),
                ("policy", models.JSONField(blank=True, default=dict)),
                ("brand", models.JSONField(blank=True, default=dict)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("IMPORT", "JSON import"),
                            ("EDITOR", "Policy editor"),
                            ("ROLLBACK", "Rollback"),
                        ],
                        max_length=16,
                    ),
                ),
                ("diff", models.JSONField(blank=True, default=list)),
                ("restored_from", models.PositiveIntegerField(blank=True, null=True)),
                ("note", models.CharField(blank=True, max_length=300)),
                (
                    "author",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "store",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="policy_versions",
                        to="rma.store",
                    ),
                ),
            ],
            options={
                "ordering": ["store", "-number"],
                "permissions": [
                    ("edit_store_policy", "Can edit, publish and roll back store policies"),
                    ("simulate_store_policy", "Can run the policy simulator"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("store", "number"), name="policyversion_unique_number_per_store"
                    )
                ],
            },
        ),
    ]
