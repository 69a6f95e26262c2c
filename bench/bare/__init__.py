"""The bare floor: a separate minimal Django project the bench compares the app with."""
