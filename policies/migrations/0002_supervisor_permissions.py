"""Customer care supervisors edit, publish, roll back and simulate store policies."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SUPERVISOR = "Customer care supervisor"
CODENAMES = ("view_policyversion", "edit_store_policy", "simulate_store_policy")


def grant(apps, schema_editor):
    using = schema_editor.connection.alias
    app_config = apps.get_app_config("policies")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True
    try:
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
    finally:
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.using(using).get_or_create(name=SUPERVISOR)
    group.permissions.add(
        *Permission.objects.using(using).filter(
            content_type__app_label="policies", codename__in=CODENAMES
        )
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.using(schema_editor.connection.alias).filter(name=SUPERVISOR).first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="policies", codename__in=CODENAMES)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0001_initial"),
        ("rma", "0003_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
