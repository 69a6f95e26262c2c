"""The staff groups and what each may do (docs/decisions.md, "Staff groups").

Permissions are created here first (they normally appear only after `migrate` finishes, in
`post_migrate`), so the groups get their permissions on a fresh database too. Running it
again is harmless: missing permissions and groups are added, each group's permissions of
this app are set to exactly the list below (other apps' grants stay).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

AGENT = "Customer care agent"
SUPERVISOR = "Customer care supervisor"
WAREHOUSE = "Warehouse"

# What every staff member may look at: the order, the return and its trail.
_VIEW_RETURNS = [
    "view_store",
    "view_supplier",
    "view_order",
    "view_orderline",
    "view_rma",
    "view_rmaline",
    "view_rmaphoto",
    "view_rmaevent",
]

_AGENT = [
    *_VIEW_RETURNS,
    "view_notification",
    "view_webhookdelivery",
    "view_eligibilityoverride",
    "add_eligibilityoverride",
    "override_ineligibility",
    "approve_rma",
    "cancel_rma",
    "create_rma_for_customer",
    "resend_notification",
    "reissue_label",
    "resolve_rma",
    "view_dashboard",
]

# Codenames of app "rma", by group.
GROUP_PERMISSIONS = {
    AGENT: _AGENT,
    SUPERVISOR: [
        *_AGENT,
        "override_any_ineligibility",
        "replay_webhookdelivery",
        "view_webhookendpoint",
        "add_webhookendpoint",
        "change_webhookendpoint",
        "view_apikey",
        "receive_rma",
    ],
    WAREHOUSE: [*_VIEW_RETURNS, "receive_rma"],
}


def create_groups(apps, schema_editor=None):
    using = schema_editor.connection.alias if schema_editor else "default"
    app_config = apps.get_app_config("rma")
    # Historical app configs have no models module, and create_permissions skips those.
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True
    try:
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
    finally:
        app_config.models_module = models_module

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    available = {
        permission.codename: permission
        for permission in Permission.objects.using(using).filter(content_type__app_label="rma")
    }
    for name, codenames in GROUP_PERMISSIONS.items():
        missing = sorted(set(codenames) - set(available))
        if missing:
            raise RuntimeError(f"Group {name!r}: unknown permissions {missing}")
        group, _ = Group.objects.using(using).get_or_create(name=name)
        # Permissions of other apps, granted by their own migrations, stay.
        others = list(group.permissions.exclude(content_type__app_label="rma"))
        group.permissions.set([*others, *(available[codename] for codename in codenames)])


def delete_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(
        name__in=list(GROUP_PERMISSIONS)
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("rma", "0002_permissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
