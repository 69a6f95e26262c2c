"""Customer care in the Django admin.

Importing the modules registers their ModelAdmins with the default admin site.
"""

from . import order_admin, other_admin, rma_admin, staff_admin

__all__ = ["order_admin", "other_admin", "rma_admin", "staff_admin"]
